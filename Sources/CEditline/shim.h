// libedit for Swift: the native el_* / history API, with static inline shims for the
// variadic calls Swift cannot make itself. Checked against Debian's libedit 3.1-20221030.
#ifndef COREPL_CEDITLINE_SHIM_H
#define COREPL_CEDITLINE_SHIM_H

#include <histedit.h>
#include <locale.h>

#endif
