//! Chart scales: round ("nice") tick steps, how the numbers on an axis and at
//! the end of a bar are written, and which category labels an x axis has room
//! for.

/// A value axis from `min` to `max` in whole `step`s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Axis {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

impl Axis {
    /// An axis covering `lo..=hi` and zero, in at most `max_intervals` steps of
    /// 1, 2 or 5 times a power of ten. Bars and areas are read from zero, so
    /// zero is always on the axis.
    pub fn nice(lo: f64, hi: f64, max_intervals: u32) -> Axis {
        let (mut lo, mut hi) = (lo.min(0.0), hi.max(0.0));
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 0.0);
        }
        if hi - lo <= f64::MIN_POSITIVE {
            hi = lo + 1.0;
        }
        let max_intervals = max_intervals.max(1);
        let raw = (hi - lo) / f64::from(max_intervals);
        let mut exponent = raw.log10().floor() as i32;
        loop {
            let magnitude = 10f64.powi(exponent);
            for m in [1.0, 2.0, 5.0] {
                let step = m * magnitude;
                // The tolerance keeps 0.30000000000000004 from needing a
                // fourth interval of 0.1.
                let first = (lo / step + 1e-9).floor();
                let last = (hi / step - 1e-9).ceil();
                if last - first <= f64::from(max_intervals) {
                    return Axis {
                        min: first * step,
                        max: last * step,
                        step,
                    };
                }
            }
            exponent += 1;
        }
    }

    /// The tick values from `min` to `max`, computed from whole multiples so
    /// rounding errors do not pile up.
    pub fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let first = (self.min / self.step).round() as i64;
        let last = (self.max / self.step).round() as i64;
        (first..=last).map(move |k| k as f64 * self.step)
    }

    /// How this axis writes its tick labels.
    pub fn format(&self) -> TickFormat {
        let largest = self.min.abs().max(self.max.abs());
        let (divisor, suffix) = if largest >= 1e6 {
            (1e6, "M")
        } else if largest >= 1e4 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        let decimals = (-(self.step / divisor).log10().floor()).clamp(0.0, 6.0) as usize;
        TickFormat {
            divisor,
            suffix,
            decimals,
        }
    }
}

/// One way of writing every tick on an axis, so "0.5" never sits next to "1"
/// and "500" never next to "1k".
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct TickFormat {
    divisor: f64,
    suffix: &'static str,
    decimals: usize,
}

impl TickFormat {
    pub fn label(&self, value: f64) -> String {
        let scaled = value / self.divisor;
        // Zero is zero in any unit: "0", never "0.0M".
        if (scaled * 10f64.powi(self.decimals as i32)).round() == 0.0 {
            return "0".to_owned();
        }
        let mut out = group_thousands(scaled, self.decimals);
        out.push_str(self.suffix);
        out
    }
}

/// A value as printed at the end of a bar: full precision up to two decimals,
/// thousands separated.
pub(crate) fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let decimals = if value.fract() == 0.0 {
        0
    } else if value.abs() < 10.0 {
        2
    } else if value.abs() < 1000.0 {
        1
    } else {
        0
    };
    let mut out = group_thousands(value, decimals);
    if out.contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    out
}

/// `value` rounded to `decimals` places with commas between thousands; never
/// "-0".
pub(crate) fn group_thousands(value: f64, decimals: usize) -> String {
    let plain = format!("{:.*}", decimals, value.abs());
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let negative = value < 0.0 && plain.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let mut out = String::with_capacity(plain.len() + plain.len() / 3 + 1);
    if negative {
        out.push('-');
    }
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Which of `count` evenly spaced labels, `spacing` points apart, to print so
/// that labels `widest` points wide keep at least `gap` between them: every
/// n-th from the first.
pub(crate) fn thin_labels(count: usize, spacing: f32, widest: f32, gap: f32) -> Vec<usize> {
    let stride = if count <= 1 || spacing <= 0.0 {
        1
    } else {
        (((widest + gap) / spacing).ceil() as usize).max(1)
    };
    (0..count).step_by(stride).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_nice(step: f64) -> bool {
        let exponent = step.log10().floor();
        let mantissa = step / 10f64.powf(exponent);
        [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-9)
    }

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        let cases = [
            (0.0, 87.0, 20.0, 100.0),
            (0.0, 100.0, 20.0, 100.0),
            (0.0, 101.0, 50.0, 150.0),
            (0.0, 1234.0, 500.0, 1500.0),
            (0.0, 0.37, 0.1, 0.4),
            (0.0, 9.0, 2.0, 10.0),
            (0.0, 48_500_000.0, 10_000_000.0, 50_000_000.0),
        ];
        for (lo, hi, step, max) in cases {
            let axis = Axis::nice(lo, hi, 5);
            assert!((axis.step - step).abs() < 1e-9, "{lo}..{hi}: {axis:?}");
            assert!((axis.max - max).abs() < 1e-9, "{lo}..{hi}: {axis:?}");
            assert_eq!(axis.min, 0.0);
        }
    }

    #[test]
    fn nice_axes_cover_the_data_in_four_to_six_ticks() {
        let mut hi = 0.013;
        while hi < 1e9 {
            for lo in [0.0, -hi / 3.0] {
                let axis = Axis::nice(lo, hi, 5);
                let ticks: Vec<f64> = axis.ticks().collect();
                assert!((4..=6).contains(&ticks.len()), "{lo}..{hi}: {ticks:?}");
                assert!(is_nice(axis.step), "{lo}..{hi}: {axis:?}");
                assert!(axis.min <= lo && axis.max >= hi, "{lo}..{hi}: {axis:?}");
                assert!(
                    ticks.iter().any(|t| t.abs() < axis.step * 1e-6),
                    "no zero tick"
                );
            }
            hi *= 1.37;
        }
    }

    #[test]
    fn degenerate_ranges_still_make_an_axis() {
        let zero = Axis::nice(0.0, 0.0, 5);
        assert!(zero.max > zero.min);
        let constant = Axis::nice(7.0, 7.0, 5);
        assert!(constant.min <= 0.0 && constant.max >= 7.0);
        let negative = Axis::nice(-40.0, -3.0, 5);
        assert!(negative.min <= -40.0 && negative.max == 0.0);
        let broken = Axis::nice(f64::NAN, f64::INFINITY, 5);
        assert!(broken.max > broken.min);
    }

    #[test]
    fn tick_labels_use_separators_or_suffixes() {
        let labels = |lo, hi| -> Vec<String> {
            let axis = Axis::nice(lo, hi, 5);
            let format = axis.format();
            axis.ticks().map(|t| format.label(t)).collect()
        };
        assert_eq!(
            labels(0.0, 4800.0),
            ["0", "1,000", "2,000", "3,000", "4,000", "5,000"]
        );
        assert_eq!(
            labels(0.0, 23_000.0),
            ["0", "5k", "10k", "15k", "20k", "25k"]
        );
        assert_eq!(
            labels(0.0, 2_400_000.0),
            ["0", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M"]
        );
        assert_eq!(labels(0.0, 0.9), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(labels(-20.0, 20.0), ["-20", "-10", "0", "10", "20"]);
    }

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(group_thousands(1234.0, 0), "1,234");
        assert_eq!(group_thousands(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(group_thousands(999.0, 0), "999");
        assert_eq!(group_thousands(-12_345.0, 0), "-12,345");
        assert_eq!(group_thousands(-0.0001, 2), "0.00");
        assert_eq!(group_thousands(0.0, 0), "0");
    }

    #[test]
    fn bar_values_keep_useful_precision() {
        assert_eq!(format_value(1234.0), "1,234");
        assert_eq!(format_value(1234.56), "1,235");
        assert_eq!(format_value(42.26), "42.3");
        assert_eq!(format_value(4.5678), "4.57");
        assert_eq!(format_value(2.5), "2.5");
        assert_eq!(format_value(-7.0), "-7");
        assert_eq!(format_value(f64::NAN), "–");
    }

    #[test]
    fn x_labels_are_thinned_to_fit() {
        // 31 daily labels 30 pt wide, 14 pt apart: every third one.
        assert_eq!(
            thin_labels(31, 14.0, 30.0, 6.0),
            (0..31).step_by(3).collect::<Vec<_>>()
        );
        // Plenty of room: all of them.
        assert_eq!(thin_labels(7, 60.0, 30.0, 6.0), (0..7).collect::<Vec<_>>());
        assert_eq!(thin_labels(1, 0.0, 30.0, 6.0), vec![0]);
        assert!(thin_labels(0, 10.0, 30.0, 6.0).is_empty());
        // Whatever the numbers, the printed labels never touch.
        for count in 2..200 {
            let spacing = 400.0 / (count - 1) as f32;
            let shown = thin_labels(count, spacing, 33.0, 4.0);
            for pair in shown.windows(2) {
                assert!((pair[1] - pair[0]) as f32 * spacing >= 37.0);
            }
            assert_eq!(shown[0], 0);
        }
    }
}
