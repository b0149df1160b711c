/* tools.h - `etrace tool`: the bundled tools (tools/NAME.bt).
 *
 * The header comment of each tool describes its options and how they map
 * to the program's positional parameters; see tools.c. */
#ifndef TOOLS_H
#define TOOLS_H

/* `etrace tool [FLAGS] [NAME [ARGS]]`: argv[0] is "tool".  Lists the tools,
 * prints a tool's help, or translates ARGS into positional parameters and
 * execs etrace on the tool's program (it returns only on errors). */
int tool_main(int argc, char **argv);

#endif
