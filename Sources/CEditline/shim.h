// libedit for Swift: the native el_* / history API, with static inline shims for the
// variadic calls Swift cannot make itself. Checked against Debian's libedit 3.1-20221030.
#ifndef COREPL_CEDITLINE_SHIM_H
#define COREPL_CEDITLINE_SHIM_H

#include <histedit.h>
#include <locale.h>
#include <stdio.h>

typedef char *(*corepl_prompt_fn)(EditLine *);
typedef unsigned char (*corepl_el_fn)(EditLine *, int);

static inline int corepl_el_set_prompt(EditLine *el, corepl_prompt_fn f) { return el_set(el, EL_PROMPT, f); }
static inline int corepl_el_set_editor(EditLine *el, const char *mode) { return el_set(el, EL_EDITOR, mode); }
static inline int corepl_el_set_history(EditLine *el, History *h) { return el_set(el, EL_HIST, history, h); }
static inline int corepl_el_set_unbuffered(EditLine *el, int on) { return el_set(el, EL_UNBUFFERED, on); }
static inline int corepl_el_set_signal(EditLine *el, int on) { return el_set(el, EL_SIGNAL, on); }
static inline int corepl_el_refresh(EditLine *el) { return el_set(el, EL_REFRESH); }
static inline int corepl_el_set_clientdata(EditLine *el, void *data) { return el_set(el, EL_CLIENTDATA, data); }
static inline void *corepl_el_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}
static inline int corepl_el_addfn(EditLine *el, const char *name, const char *help, corepl_el_fn f) {
    return el_set(el, EL_ADDFN, name, help, f);
}
static inline int corepl_el_bind(EditLine *el, const char *key, const char *fn) {
    return el_set(el, EL_BIND, key, fn, (const char *)NULL);
}

static inline int corepl_history_setsize(History *h, int n) { HistEvent ev; return history(h, &ev, H_SETSIZE, n); }
static inline int corepl_history_setunique(History *h, int on) { HistEvent ev; return history(h, &ev, H_SETUNIQUE, on); }
static inline int corepl_history_enter(History *h, const char *line) { HistEvent ev; return history(h, &ev, H_ENTER, line); }
static inline int corepl_history_load(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_LOAD, path); }
static inline int corepl_history_save(History *h, const char *path) { HistEvent ev; return history(h, &ev, H_SAVE, path); }

#endif
