//! Calendar arithmetic on [`Date`] without a clock or a time-zone library.
//!
//! Dates are converted to a count of days since 1970-01-01 (the proleptic Gregorian
//! calendar), which makes "add n days" and "which weekday" plain integer arithmetic.
//! Settlement conventions only need weekends skipped; holiday calendars are out of scope
//! for the reference agents, so a business day here is Monday to Friday.

use crate::domain::Date;

/// Whether `year` has a 29 February.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Builds a date, or `None` when the month or day does not exist.
pub fn date(year: u16, month: u8, day: u8) -> Option<Date> {
    let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year.into(), month);
    valid.then_some(Date { year, month, day })
}

/// Days since 1970-01-01. Eras of 400 years repeat exactly, so the count is computed per era
/// with years starting in March (leap day last), which keeps every step integral.
pub fn to_days(d: Date) -> i64 {
    let m = i64::from(d.month);
    let y = i64::from(d.year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(d.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`to_days`], for days that fall in years 0–65535.
pub fn from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date {
        year: year.clamp(0, i64::from(u16::MAX)) as u16,
        month,
        day,
    }
}

/// Day of the week, 0 = Monday … 6 = Sunday. 1970-01-01 was a Thursday.
pub fn weekday(d: Date) -> u8 {
    (to_days(d) + 3).rem_euclid(7) as u8
}

pub fn is_weekend(d: Date) -> bool {
    weekday(d) >= 5
}

/// `d` plus `n` calendar days (n may be negative).
pub fn add_days(d: Date, n: i64) -> Date {
    from_days(to_days(d) + n)
}

/// The first business day on or after `d`.
pub fn roll_forward(d: Date) -> Date {
    let mut d = d;
    while is_weekend(d) {
        d = add_days(d, 1);
    }
    d
}

/// `d` plus `n` business days (Saturday and Sunday skipped), as in T+1 / T+2 settlement.
/// `n` may be negative to step back.
pub fn add_business_days(d: Date, n: i64) -> Date {
    let step = n.signum();
    let mut left = n.abs();
    let mut d = d;
    while left > 0 {
        d = add_days(d, step);
        if !is_weekend(d) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, day: u8) -> Date {
        date(y, m, day).expect("valid test date")
    }

    #[test]
    fn known_days_and_weekdays() {
        assert_eq!(to_days(d(1970, 1, 1)), 0);
        assert_eq!(to_days(d(2000, 3, 1)), 11_017);
        assert_eq!(weekday(d(1970, 1, 1)), 3); // Thursday
        assert_eq!(weekday(d(2025, 3, 14)), 4); // Friday
        assert_eq!(weekday(d(2024, 2, 29)), 3); // Thursday
        assert!(is_weekend(d(2025, 3, 15)));
    }

    #[test]
    fn round_trips_over_four_centuries() {
        let start = to_days(d(1900, 1, 1));
        for n in (start..start + 146_097).step_by(7) {
            assert_eq!(to_days(from_days(n)), n);
        }
    }

    #[test]
    fn invalid_dates_are_refused() {
        assert!(date(2023, 2, 29).is_none());
        assert!(date(2024, 2, 29).is_some());
        assert!(date(1900, 2, 29).is_none());
        assert!(date(2000, 2, 29).is_some());
        assert!(date(2025, 13, 1).is_none());
        assert!(date(2025, 4, 31).is_none());
        assert!(date(2025, 4, 0).is_none());
    }

    #[test]
    fn settlement_skips_weekends() {
        // Friday + 1 business day is Monday; Thursday + 2 is Monday.
        assert_eq!(add_business_days(d(2025, 3, 14), 1), d(2025, 3, 17));
        assert_eq!(add_business_days(d(2025, 3, 13), 2), d(2025, 3, 17));
        assert_eq!(add_business_days(d(2025, 3, 12), 2), d(2025, 3, 14));
        // Across a month and a year end.
        assert_eq!(add_business_days(d(2024, 12, 31), 2), d(2025, 1, 2));
        assert_eq!(add_business_days(d(2025, 2, 27), 2), d(2025, 3, 3));
        assert_eq!(add_business_days(d(2025, 3, 17), -1), d(2025, 3, 14));
        assert_eq!(roll_forward(d(2025, 3, 15)), d(2025, 3, 17));
        assert_eq!(roll_forward(d(2025, 3, 14)), d(2025, 3, 14));
    }
}
