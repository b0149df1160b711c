/* convert.h - `etrace convert DIR --to chrome|text [-o FILE]`. */
#ifndef ETRACE_CONVERT_H
#define ETRACE_CONVERT_H

int convert_main(int argc, char **argv); /* argv[1] is "convert" */

#endif
