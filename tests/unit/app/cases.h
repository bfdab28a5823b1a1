/* cases.h -- the cases of unit_app. */
#ifndef RICOCHET_UNIT_APP_CASES_H
#define RICOCHET_UNIT_APP_CASES_H

void test_metrics_text(void);
void test_metrics_zero(void);
void test_metrics_escape(void);
void test_metrics_recordings(void);
void test_record_text(void);
void test_record_cut_and_error(void);
void test_record_timer_order(void);
void test_record_upstream(void);
void test_quote_into_every_byte(void);

#endif
