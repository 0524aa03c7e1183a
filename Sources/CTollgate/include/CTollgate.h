#ifndef CTOLLGATE_H
#define CTOLLGATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

/// Atomics on memory Swift does not own (mmap'd shared files). Swift's `Atomic` cannot be
/// placed at an arbitrary address, so these wrap the compiler builtins. All are sequentially
/// consistent except where the name says otherwise; they never take a lock, so a process that
/// dies mid-operation cannot wedge the others.
static inline uint64_t tg_atomic_load_u64(const volatile uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void tg_atomic_store_u64(volatile uint64_t *p, uint64_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint64_t tg_atomic_add_u64(volatile uint64_t *p, uint64_t v) {
    return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL);
}
static inline uint64_t tg_atomic_sub_u64(volatile uint64_t *p, uint64_t v) {
    return __atomic_sub_fetch(p, v, __ATOMIC_ACQ_REL);
}
static inline bool tg_atomic_cas_u64(volatile uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static inline uint64_t tg_atomic_exchange_u64(volatile uint64_t *p, uint64_t v) {
    return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL);
}
/// Sequentially consistent add and load, for "increment mine, then read everyone's" protocols
/// (the quota table's concurrency counters), whose correctness needs one total order.
static inline uint64_t tg_atomic_add_seqcst_u64(volatile uint64_t *p, uint64_t v) {
    return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}
static inline uint64_t tg_atomic_load_seqcst_u64(const volatile uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline bool tg_atomic_cas_seqcst_u64(volatile uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/// glibc's `memmem` (a GNU extension Swift's Glibc module does not export): the vectorised
/// substring search the streaming usage meter runs over every relayed byte.
/// Defined in shims.c, where _GNU_SOURCE is set: defining it in this header would change
/// the system headers' declarations for every module that imports CTollgate.
const void *tg_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// Asks the kernel to send `sig` to this process when its parent dies, so workers never
/// outlive a SIGKILLed supervisor. Returns 0 on success, -1 elsewhere than Linux.
int tg_set_parent_death_signal(int sig);

/// Spawns `path` with `argv`/`envp` via posix_spawn (fork+exec semantics, never a bare fork),
/// in its own signal state: every signal the parent ignores or blocks is reset to default in
/// the child. File descriptors other than 0, 1 and 2 are closed in the child when
/// `close_other_fds` is set. With `new_process_group` the child leads its own process group,
/// so a terminal's Ctrl-C reaches only the parent, which then stops its children in order.
/// Returns 0 and stores the pid, or an errno value.
int tg_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], bool close_other_fds, bool new_process_group);

#endif
