/*
 * store: forwarding header. The store lives in gateway/store/ (the
 * interface in gateway/store/store.h, one file per driver); this header
 * keeps `#include "gateway/store.h"` working for the code that names it.
 */
#ifndef DG_STORE_FORWARD_H
#define DG_STORE_FORWARD_H

#include "gateway/store/store.h"

#endif
