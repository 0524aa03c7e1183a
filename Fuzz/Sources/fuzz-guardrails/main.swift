import Glibc
import FuzzSupport

exit(runLibFuzzer(fuzzGuardrails))
