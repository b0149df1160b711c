/* load.c - loads one program of floor.bpf.o by name, attaches it and
 * holds it until SIGINT/SIGTERM, draining the ring buffer (printing
 * nothing: the benchmark measures the BPF side).  With two names, both
 * (read_latency needs read_start too).
 *   load OBJECT PROG [PROG2] */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }
static int drain(void *ctx, void *data, size_t size) { (void)ctx; (void)data; (void)size; return 0; }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: load OBJECT PROG [PROG2]\n");
    return 2;
  }
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    fprintf(stderr, "load: cannot open %s\n", argv[1]);
    return 1;
  }
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj) {
    const char *name = bpf_program__name(p);
    int wanted = !strcmp(name, argv[2]) || (argc > 3 && !strcmp(name, argv[3]));
    bpf_program__set_autoload(p, wanted);
  }
  if (bpf_object__load(obj)) {
    fprintf(stderr, "load: %s: load failed\n", argv[1]);
    return 1;
  }
  bpf_object__for_each_program(p, obj) {
    if (!bpf_program__autoload(p))
      continue;
    if (!bpf_program__attach(p)) {
      fprintf(stderr, "load: cannot attach %s\n", bpf_program__name(p));
      return 1;
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct ring_buffer *rb = NULL;
  if (!strcmp(argv[2], "openat_printf"))
    rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "out")), drain, NULL, NULL);
  while (!stop) {
    if (rb)
      ring_buffer__poll(rb, 100);
    else
      pause();
  }
  ring_buffer__free(rb);
  bpf_object__close(obj);
  return 0;
}
