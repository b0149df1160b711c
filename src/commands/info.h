/* info.h - `etrace --info`. */
#ifndef ETRACE_INFO_H
#define ETRACE_INFO_H
#include <stdio.h>

/* Print the system's and the kernel's BPF features, bpftrace's layout. */
void info_print(FILE *f);

#endif
