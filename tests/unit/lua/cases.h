/* cases.h -- the cases of unit_lua, one group per module of src/lua. */
#ifndef RICOCHET_UNIT_LUA_CASES_H
#define RICOCHET_UNIT_LUA_CASES_H

void test_lpattern_differential(void);
void test_lpattern_generated(void);
void test_lpattern_budget_stops(void);
void test_lpattern_budget_generous(void);
void test_lpattern_install(void);

void test_lcase_matches_stock(void);

void test_lalloc_cap(void);
void test_lalloc_cache(void);
void test_lalloc_state(void);
void test_lalloc_shrink_refused(void);

#endif
