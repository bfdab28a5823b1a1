/* main.c -- unit_app, the runner of src/app's tests: "unit_app CASE" or
 * "unit_app". It links ricochet_app (and so every layer below).
 *
 * Each CASE(...) line below becomes a ctest test of its own,
 * unit.app.CASE (tests/unit/CMakeLists.txt reads them from this file). */
#include "cases.h"
#include "test.h"
#include "unit_main.h"

#define CASE(name) { #name, test_##name }

static const test_case cases[] = {
    CASE(metrics_text),
    CASE(metrics_zero),
    CASE(metrics_escape),
    CASE(metrics_recordings),
    CASE(record_text),
    CASE(record_cut_and_error),
    CASE(record_timer_order),
    CASE(record_upstream),
    CASE(quote_into_every_byte),
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return unit_main(cases, argc, argv);
}
