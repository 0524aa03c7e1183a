#ifndef TOLLGATE_CLIBFUZZER_H
#define TOLLGATE_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt's libclang_rt.fuzzer, linked by -sanitize=fuzzer): parses
/// the usual -max_total_time/-max_len/... flags and runs the callback. The fuzz executables
/// call it from their main because SwiftPM gives every executable a main of its own.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
