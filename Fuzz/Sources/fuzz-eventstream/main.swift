import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzEventStream))
