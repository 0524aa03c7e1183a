import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzRequests))
