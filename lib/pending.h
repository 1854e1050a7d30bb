/* pending.h — TEMPORARY: declarations of pieces still on other branches
 * (forecaster_open, branch backtest). Deleted when they land on main. */
#ifndef CHRONOPT_PENDING_H
#define CHRONOPT_PENDING_H
#include "forecast.h"
forecaster *forecaster_open(const char *spec, cp_err *e);
#endif
