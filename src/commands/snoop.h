/* snoop.h - `etrace snoop`: a ksnoop for tracepoints (see snoop.c). */
#ifndef SNOOP_H
#define SNOOP_H

/* `etrace snoop [OPTIONS] EVENT[(ARGS)]...` and `etrace snoop info
 * EVENT...`: argv[0] is "snoop".  Returns the process exit code. */
int snoop_main(int argc, char **argv);

#endif
