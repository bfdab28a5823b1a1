/* cases.h -- the cases of unit_os, one group per module of src/os. The
 * poller cases are test_poller.c's own runner, built once per backend. */
#ifndef RICOCHET_UNIT_OS_CASES_H
#define RICOCHET_UNIT_OS_CASES_H

void test_net_listen_name(void);
void test_net_listen_dual_stack(void);
void test_net_listen_in_use(void);
void test_net_listen_bad(void);
void test_net_pair_half_close(void);
void test_net_connect_pending(void);

void test_err_strerror(void);
void test_err_strerror_per_thread(void);

void test_signals_take(void);

void test_path_slash(void);
void test_path_truncated(void);
void test_path_windows(void);
void test_path_has_dir(void);
void test_path_join(void);
void test_path_is_file(void);

void test_notify_socket(void);
void test_notify_bad(void);
void test_interrupt_long_call(void);

void test_dir_list(void);
void test_dir_not_a_dir(void);

void test_clock_monotonic(void);
void test_clock_wall(void);

#endif
