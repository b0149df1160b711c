/* child.c - the -c command, shared by tracing and recording.  It is
 * forked before the probes are loaded (so its pid is known to them) and
 * held on a pipe until they are attached; on every error path it is
 * released without running the command, or killed, and always reaped. */
#include "etrace.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;
static int go[2] = {-1, -1};

/* Split CMD into words: whitespace separates, '...' and "..." group. */
static char **split_command(const char *cmd) {
  char **argv = calloc(strlen(cmd) / 2 + 2, sizeof(char *));
  int argc = 0;
  const char *p = cmd;
  while (*p) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    char *w = malloc(strlen(p) + 1), *q = w;
    while (*p && *p != ' ' && *p != '\t') {
      if (*p == '\'' || *p == '"') {
        char quote = *p++;
        while (*p && *p != quote)
          *q++ = *p++;
        if (*p)
          p++;
      } else {
        *q++ = *p++;
      }
    }
    *q = 0;
    argv[argc++] = w;
  }
  argv[argc] = NULL;
  return argv;
}

static void free_argv(char **argv) {
  for (char **a = argv; *a; a++)
    free(*a);
  free(argv);
}

/* Whether path is a file this process may execute. */
static bool is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Whether execvp would find name: a path when it has a '/', else a
 * program in $PATH.  Checked before anything runs, so that a mistyped
 * command fails at once (bpftrace's message and failure) instead of after
 * BEGIN. */
static bool command_exists(const char *name) {
  if (strchr(name, '/'))
    return is_executable(name);
  const char *path = getenv("PATH");
  if (!path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t n = strcspn(path, ":");
    char full[PATH_MAX];
    if (snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? path : ".", name) < (int)sizeof full &&
        is_executable(full))
      return true;
    path += n + (path[n] == ':');
  }
  return false;
}

static bool name_early;

void child_name_early(bool on) { name_early = on; }

pid_t child_spawn(const char *cmd) {
  char **argv = split_command(cmd);
  if (!argv[0]) {
    diag_fatal("-c: empty command");
    free_argv(argv);
    return -1;
  }
  if (!command_exists(argv[0])) {
    diag_cli_error("Failed to fork child: path '%s' does not exist or is not executable", argv[0]);
    free_argv(argv);
    return -1;
  }
  if (pipe(go) < 0) {
    diag_fatal("-c: pipe: %s", strerror(errno));
    free_argv(argv);
    return -1;
  }
  child = fork();
  if (child < 0) {
    diag_fatal("-c: fork: %s", strerror(errno));
    free_argv(argv);
    return -1;
  }
  if (child == 0) {
    close(go[1]);
    if (name_early) {
      const char *slash = strrchr(argv[0], '/');
      prctl(PR_SET_NAME, slash ? slash + 1 : argv[0]);
    }
    char c;
    if (read(go[0], &c, 1) != 1) {
      free_argv(argv); /* (valgrind checks the forked child for leaks too) */
      _exit(0); /* the tracer gave up: never run the command */
    }
    close(go[0]);
    execvp(argv[0], argv);
    fprintf(stderr, "etrace: -c: cannot run '%s': %s\n", argv[0], strerror(errno));
    free_argv(argv);
    _exit(127);
  }
  close(go[0]);
  free_argv(argv);
  return child;
}

void child_start(void) {
  if (go[1] >= 0) {
    if (write(go[1], "g", 1) != 1)
      diag_fatal("-c: cannot start the child");
    close(go[1]);
    go[1] = -1;
  }
}

void child_reaped(void) { child = 0; }

void child_kill(void) {
  if (child <= 0)
    return;
  if (go[1] >= 0) {
    close(go[1]); /* it exits without running the command */
    go[1] = -1;
  } else {
    kill(child, SIGKILL);
  }
  waitpid(child, NULL, 0);
  child = 0;
}

/* The kernel's ceiling for pid_max (include/linux/threads.h, 64-bit). */
#define PID_MAX_LIMIT (4 * 1024 * 1024)

pid_t pid_arg(const char *arg) {
  char *end;
  long pid = strtol(arg, &end, 10);
  if (*end || end == arg) {
    diag_cli_error("pid '%s' is not a valid decimal number", arg);
    return -1;
  }
  if (pid < 1 || pid > PID_MAX_LIMIT) {
    diag_cli_error("pid '%s' out of valid pid range [1,%d]", arg, PID_MAX_LIMIT);
    return -1;
  }
  if (kill(pid, 0) < 0 && errno == ESRCH) {
    diag_fatal("process %ld does not exist", pid);
    return -1;
  }
  return pid;
}
