/* flamegraph.h - `etrace flamegraph` (argv[0] is "flamegraph"). */
#ifndef ETRACE_FLAMEGRAPH_H
#define ETRACE_FLAMEGRAPH_H

int flamegraph_main(int argc, char **argv);

#endif
