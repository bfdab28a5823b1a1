/* main.c -- unit_os, the runner of src/os's tests: "unit_os CASE" or
 * "unit_os". It links ricochet_os only.
 *
 * Each CASE(...) line below becomes a ctest test of its own, unit.os.CASE
 * (tests/unit/CMakeLists.txt reads them from this file). */
#include "cases.h"
#include "test.h"
#include "unit_main.h"

#define CASE(name) { #name, test_##name }

static const test_case cases[] = {
    CASE(net_listen_name),
    CASE(net_listen_dual_stack),
    CASE(net_listen_in_use),
    CASE(net_listen_bad),
    CASE(net_pair_half_close),
    CASE(net_connect_pending),
    CASE(err_strerror),
    CASE(err_strerror_per_thread),
    CASE(signals_take),
    CASE(path_slash),
    CASE(path_truncated),
    CASE(path_windows),
    CASE(dir_list),
    CASE(dir_not_a_dir),
    CASE(path_has_dir),
    CASE(path_join),
    CASE(path_is_file),
    CASE(notify_socket),
    CASE(notify_bad),
    CASE(interrupt_long_call),
    CASE(clock_monotonic),
    CASE(clock_wall),
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return unit_main(cases, argc, argv);
}
