package tabular

import (
	"math"
	"time"
)

// Epochs of Excel's two date systems: the day before serial 0 counts
// from. The 1900 system's epoch is 30 December 1899 rather than 31
// December because of the day Lotus 1-2-3 invented (see ExcelSerialTime).
var (
	excelEpoch1900 = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	excelEpoch1904 = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ExcelSerialTime is the date and time of day an Excel serial names: the
// one reading of serials for both the XLSX reader (cells whose number
// format shows a date) and the mapping step date with format EXCEL (a
// serial a CSV export kept as a number), so that one value cannot read as
// two days.
//
// A serial counts days; its fraction is the time of day, rounded to the
// nearest second (so 0.9999999 of a day is the next midnight). The result
// is a wall-clock time in UTC: Excel has no time zones.
//
// In the 1900 date system (date1904 false, Excel's default on Windows):
//   - serial 1 is 1 January 1900 and 59 is 28 February 1900;
//   - 60 is 29 February 1900, a day that never was: Excel keeps it for
//     compatibility with Lotus 1-2-3, which thought 1900 a leap year. It
//     names no date, so ok is false (for any time on it too), rather than
//     quietly moving the value to a neighbouring day;
//   - 61 is 1 March 1900, and from there on the count is the plain one;
//   - serials below 1 are "0 January 1900": Excel shows a time of day
//     with them and no date, so ok is false. A cell formatted to show a
//     time alone has such a serial; its reader takes the time of day of
//     serial+1 (a whole day added changes no time of day).
//
// In the 1904 date system (date1904 true, old Mac workbooks, flagged in
// the workbook part), serial 0 is 1 January 1904 and there is no invented
// day.
//
// ok is false as well for negative serials (Excel shows no date for them),
// NaN and infinities, and serials from 1 January 10000 on (Excel's last
// day is 31 December 9999).
func ExcelSerialTime(serial float64, date1904 bool) (t time.Time, ok bool) {
	if math.IsNaN(serial) || serial < 0 || serial >= 2958466 { // 2958466 is 10000-01-01 in the 1900 system
		return time.Time{}, false
	}
	secs := int64(math.Round(serial * 86400))
	days, secs := secs/86400, secs%86400
	epoch := excelEpoch1900
	switch {
	case date1904:
		epoch = excelEpoch1904
	case days < 1 || days == 60:
		return time.Time{}, false
	case days < 60:
		days++ // before the invented day, one day later than a plain count
	}
	t = epoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	if t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}
