// libmodsecurity's C API (ModSecurity v3). The headers are C++-aware but expose a plain C
// interface when __cplusplus is not defined, which is what Swift imports.
#ifndef TOLLGATE_CMODSECURITY_SHIM_H
#define TOLLGATE_CMODSECURITY_SHIM_H

#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <modsecurity/intervention.h>

#endif
