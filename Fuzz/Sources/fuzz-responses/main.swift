import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzResponses))
