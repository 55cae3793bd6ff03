/**
 * Go's time.Time.Format for a UTC instant. The layout is written with Go's
 * reference time, Mon Jan 2 15:04:05 MST 2006:
 *
 *   2006 06 | January Jan 1 01 | Monday Mon | 2 02 _2 002 __2 | 15 3 03 | 4 04 | 5 05 | PM pm
 *   MST | Z07:00 Z0700 Z07 Z07:00:00 Z070000 | -07:00 -0700 -07 -07:00:00 -070000 | .000 .999 ,000 ,999
 *
 * Everything else is copied literally. In UTC, `Z…` zones print `Z`, numeric
 * zones print `+00:00`-style offsets and `MST` prints `UTC`.
 */

const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

type Std =
  | 'longMonth' | 'month' | 'numMonth' | 'zeroMonth'
  | 'longWeekDay' | 'weekDay'
  | 'day' | 'underDay' | 'zeroDay' | 'underYearDay' | 'zeroYearDay'
  | 'hour' | 'hour12' | 'zeroHour12'
  | 'minute' | 'zeroMinute' | 'second' | 'zeroSecond'
  | 'longYear' | 'year'
  | 'PM' | 'pm'
  | 'tz'
  | 'iso8601TZ' | 'iso8601SecondsTZ' | 'iso8601ShortTZ' | 'iso8601ColonTZ' | 'iso8601ColonSecondsTZ'
  | 'numTZ' | 'numSecondsTz' | 'numShortTZ' | 'numColonTZ' | 'numColonSecondsTZ'
  | 'frac0' | 'frac9';

interface Chunk {
  prefix: string;
  std?: Std;
  /** Fraction digits, for frac0/frac9; the separator ('.' or ',') for those too. */
  digits?: number;
  sep?: string;
  suffix: string;
}

function startsWithLowerCase(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 0x61 && c <= 0x7a;
}

const STD0X: Std[] = ['zeroMonth', 'zeroDay', 'zeroHour12', 'zeroMinute', 'zeroSecond', 'year'];

/** Go's nextStdChunk: the first layout element, the text before it and the rest. */
function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i);
    const hit = (std: Std, len: number, prefixEnd = i): Chunk => ({ prefix: layout.slice(0, prefixEnd), std, suffix: layout.slice(i + len) });
    switch (layout[i]) {
      case 'J':
        if (rest.startsWith('Jan')) {
          if (rest.startsWith('January')) return hit('longMonth', 7);
          if (!startsWithLowerCase(rest.slice(3))) return hit('month', 3);
        }
        break;
      case 'M':
        if (rest.startsWith('Mon')) {
          if (rest.startsWith('Monday')) return hit('longWeekDay', 6);
          if (!startsWithLowerCase(rest.slice(3))) return hit('weekDay', 3);
        }
        if (rest.startsWith('MST')) return hit('tz', 3);
        break;
      case '0': {
        const c = rest[1];
        if (c !== undefined && c >= '1' && c <= '6') return hit(STD0X[c.charCodeAt(0) - 49]!, 2);
        if (rest.startsWith('002')) return hit('zeroYearDay', 3);
        break;
      }
      case '1':
        if (rest[1] === '5') return hit('hour', 2);
        return hit('numMonth', 1);
      case '2':
        if (rest.startsWith('2006')) return hit('longYear', 4);
        return hit('day', 1);
      case '_':
        if (rest[1] === '2') {
          // _2006 is a literal _ followed by the long year
          if (rest.startsWith('_2006')) return { prefix: layout.slice(0, i + 1), std: 'longYear', suffix: layout.slice(i + 5) };
          return hit('underDay', 2);
        }
        if (rest.startsWith('__2')) return hit('underYearDay', 3);
        break;
      case '3': return hit('hour12', 1);
      case '4': return hit('minute', 1);
      case '5': return hit('second', 1);
      case 'P':
        if (rest[1] === 'M') return hit('PM', 2);
        break;
      case 'p':
        if (rest[1] === 'm') return hit('pm', 2);
        break;
      case '-':
        if (rest.startsWith('-070000')) return hit('numSecondsTz', 7);
        if (rest.startsWith('-07:00:00')) return hit('numColonSecondsTZ', 9);
        if (rest.startsWith('-0700')) return hit('numTZ', 5);
        if (rest.startsWith('-07:00')) return hit('numColonTZ', 6);
        if (rest.startsWith('-07')) return hit('numShortTZ', 3);
        break;
      case 'Z':
        if (rest.startsWith('Z070000')) return hit('iso8601SecondsTZ', 7);
        if (rest.startsWith('Z07:00:00')) return hit('iso8601ColonSecondsTZ', 9);
        if (rest.startsWith('Z0700')) return hit('iso8601TZ', 5);
        if (rest.startsWith('Z07:00')) return hit('iso8601ColonTZ', 6);
        if (rest.startsWith('Z07')) return hit('iso8601ShortTZ', 3);
        break;
      case '.':
      case ',': {
        const ch = rest[1];
        if (ch === '0' || ch === '9') {
          let j = 1;
          while (j < rest.length && rest[j] === ch) j++;
          const next = rest.charCodeAt(j);
          if (!(next >= 48 && next <= 57)) {
            return { prefix: layout.slice(0, i), std: ch === '0' ? 'frac0' : 'frac9', digits: j - 1, sep: layout[i]!, suffix: layout.slice(i + j) };
          }
        }
        break;
      }
    }
  }
  return { prefix: layout, suffix: '' };
}

function pad(n: number, width: number, ch = '0'): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length < width ? ch.repeat(width - s.length) + s : s);
}

function yearDay(d: Date): number {
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Math.round((today - start) / 86_400_000) + 1;
}

/** Formats `date` (in UTC) with a Go layout. */
export function formatGoTime(date: Date, layout: string): string {
  let out = '';
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  const hour = date.getUTCHours();
  const minute = date.getUTCMinutes();
  const second = date.getUTCSeconds();
  const nanos = date.getUTCMilliseconds() * 1_000_000;
  let rest = layout;
  while (rest !== '') {
    const c = nextStdChunk(rest);
    out += c.prefix;
    if (!c.std) break;
    rest = c.suffix;
    switch (c.std) {
      case 'year': out += pad(((year % 100) + 100) % 100, 2); break;
      case 'longYear': out += pad(year, 4); break;
      case 'month': out += LONG_MONTHS[month]!.slice(0, 3); break;
      case 'longMonth': out += LONG_MONTHS[month]; break;
      case 'numMonth': out += String(month + 1); break;
      case 'zeroMonth': out += pad(month + 1, 2); break;
      case 'weekDay': out += LONG_DAYS[date.getUTCDay()]!.slice(0, 3); break;
      case 'longWeekDay': out += LONG_DAYS[date.getUTCDay()]; break;
      case 'day': out += String(day); break;
      case 'underDay': out += pad(day, 2, ' '); break;
      case 'zeroDay': out += pad(day, 2); break;
      case 'underYearDay': out += pad(yearDay(date), 3, ' '); break;
      case 'zeroYearDay': out += pad(yearDay(date), 3); break;
      case 'hour': out += pad(hour, 2); break;
      case 'hour12': out += String(hour % 12 === 0 ? 12 : hour % 12); break;
      case 'zeroHour12': out += pad(hour % 12 === 0 ? 12 : hour % 12, 2); break;
      case 'minute': out += String(minute); break;
      case 'zeroMinute': out += pad(minute, 2); break;
      case 'second': out += String(second); break;
      case 'zeroSecond': out += pad(second, 2); break;
      case 'PM': out += hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += hour >= 12 ? 'pm' : 'am'; break;
      case 'tz': out += 'UTC'; break;
      case 'iso8601TZ':
      case 'iso8601SecondsTZ':
      case 'iso8601ShortTZ':
      case 'iso8601ColonTZ':
      case 'iso8601ColonSecondsTZ': out += 'Z'; break;
      case 'numTZ': out += '+0000'; break;
      case 'numSecondsTz': out += '+000000'; break;
      case 'numShortTZ': out += '+00'; break;
      case 'numColonTZ': out += '+00:00'; break;
      case 'numColonSecondsTZ': out += '+00:00:00'; break;
      case 'frac0':
      case 'frac9': {
        const n = c.digits!;
        let frac = String(nanos).padStart(9, '0').slice(0, Math.min(n, 9));
        if (c.std === 'frac9') {
          frac = frac.replace(/0+$/, '');
          if (frac === '') break;
        }
        out += c.sep + frac;
        break;
      }
    }
  }
  return out;
}
