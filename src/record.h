/* record.h - `etrace record` (tracepoints to a CTF trace) and
 * `etrace ctf repair`.  argv[1] is the subcommand name. */
#ifndef ETRACE_RECORD_H
#define ETRACE_RECORD_H

int record_main(int argc, char **argv);

#endif
