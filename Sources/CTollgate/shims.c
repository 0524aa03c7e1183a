#define _GNU_SOURCE
#include "CTollgate.h"
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

const void *tg_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

int tg_set_parent_death_signal(int sig) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, sig);
#else
    (void)sig;
    return -1;
#endif
}

int tg_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], bool close_other_fds, bool new_process_group) {
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0) return rc;
    rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) { posix_spawnattr_destroy(&attr); return rc; }

    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (new_process_group) {
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);

    if (close_other_fds) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#else
        DIR *d = opendir("/proc/self/fd");
        if (d) {
            struct dirent *e;
            int self = dirfd(d);
            while ((e = readdir(d)) != NULL) {
                int fd = atoi(e->d_name);
                if (fd > 2 && fd != self) posix_spawn_file_actions_addclose(&actions, fd);
            }
            closedir(d);
        }
#endif
    }
    rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}
