/* cmdline.h - what every subcommand's command line shares.
 *
 * One meaning per option letter across `etrace` and its subcommands, the
 * main command's being bpftrace's:
 *
 *   -B MODE  output buffering      -c CMD   run CMD, trace it
 *   -d STAGE compiler stage dump   -e PROG  program text
 *   -f FMT   output format         -h       help
 *   -I DIR   #include directory    -l       list probes
 *   -o PATH  output (a file; a trace directory for CTF)
 *   -p PID   only this process     -q       quiet
 *   -v       verbose               -V       version
 *
 * and, only where they apply: -D SECONDS (--duration) stop after SECONDS,
 * -b KB ring buffer size, -i FILE input, -F HZ sampling frequency,
 * -n no header line.
 *
 * Options may come anywhere among the arguments (GNU getopt permutation);
 * `--` ends them.  Spellings that older versions gave another meaning
 * still work and print a deprecation note on stderr. */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdbool.h>

/* "etrace CMD: 'OLD' is deprecated, use 'NOW'" on stderr. */
void cmdline_deprecated(const char *cmd, const char *old, const char *now);

/* A number of seconds in (0, one year] for option `opt`; false after an
 * error message. */
bool cmdline_seconds(const char *opt, const char *arg, double *out);

/* `-d ARG` in a subcommand: older versions meant a duration there.  A
 * number is still taken as one (with a deprecation note pointing at -D);
 * anything else is an error.  False after a message. */
bool cmdline_old_duration(const char *cmd, const char *arg, double *out);

#endif
