import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzJSON))
