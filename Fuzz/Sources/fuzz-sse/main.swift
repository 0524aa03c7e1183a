import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzSSE))
