// hiredis 0.14 (Debian: libhiredis-dev), the blocking C client the controller's quota sync uses.
#include <hiredis/hiredis.h>
