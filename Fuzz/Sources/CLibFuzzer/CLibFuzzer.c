// The declaration in include/ is all; the definition comes from libclang_rt.fuzzer.
