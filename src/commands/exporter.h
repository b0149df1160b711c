/* exporter.h - `etrace exporter`: programs' maps served to Prometheus. */
#ifndef EXPORTER_H
#define EXPORTER_H

/* argv[0] is "exporter".  Returns the process exit code. */
int exporter_main(int argc, char **argv);

#endif
