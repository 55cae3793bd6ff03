/**
 * Golden table for the template engine: [template, expected output].
 * Expected values follow Go text/template and GoReleaser (internal/tmpl)
 * semantics; comments say why where the result may surprise.
 */

export const DATA: Record<string, unknown> = {
  ProjectName: 'relsign',
  Version: '1.2.3',
  RawVersion: '1.2.3',
  Tag: 'v1.2.3',
  PreviousTag: 'v1.2.2',
  Major: 1,
  Minor: 2,
  Patch: 3,
  Prerelease: '',
  Branch: 'main',
  FullCommit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  ShortCommit: 'a1b2c3d',
  Commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  CommitDate: '2024-03-09T02:06:02Z',
  CommitTimestamp: 1709949962,
  Date: '2024-03-10T12:00:00Z',
  Timestamp: 1710072000,
  Env: {
    FOO: 'bar',
    EMPTY: '',
    MULTILINE: 'something with\nmultiple lines\nremove this\n to test things',
    WITH_SLASHES: 'foo/bar',
  },
  IsSnapshot: false,
  IsDraft: true,
  IsGitDirty: false,
  IsGitClean: true,
  GitTreeState: 'clean',
  GitURL: 'https://github.com/acme/relsign.git',
  Summary: 'v1.2.3-0-ga1b2c3d',
  Os: 'linux',
  Arch: 'amd64',
  Arm: '',
  Target: 'linux_amd64',
  Binary: 'relsign',
  ArtifactName: 'relsign_1.2.3_linux_amd64.tar.gz',
  ArtifactPath: 'dist/relsign_1.2.3_linux_amd64.tar.gz',
  ArtifactExt: '.tar.gz',
  // extra shapes for the engine tests
  List: ['a', 'b', 'c'],
  Empty: [],
  Nums: [3, 1, 2],
  Map: { b: '2', a: '1', c: '3' },
  Nil: null,
  Float: 1.5,
  Zero: 0,
  Nested: { Inner: { Value: 'deep' } },
  Fn: (s: string) => `${s}!`,
};

export type Golden = readonly [template: string, expected: string];

export const FIELDS: Golden[] = [
  ['{{ .ProjectName }}', 'relsign'],
  ['{{.Version}}', '1.2.3'],
  ['{{ .Env.FOO }}', 'bar'],
  ['{{ $.Tag }}', 'v1.2.3'],
  ['{{ .Nested.Inner.Value }}', 'deep'],
  ['{{ .Major }}.{{ .Minor }}.{{ .Patch }}', '1.2.3'],
  ['{{ .IsDraft }} {{ .IsSnapshot }}', 'true false'],
  ['{{ .CommitTimestamp }}', '1709949962'],
  ['{{ .List }}', '[a b c]'],
  ['{{ .Nums }}', '[3 1 2]'],
  ['{{ .Empty }}', '[]'],
  ['{{ .Map }}', 'map[a:1 b:2 c:3]'], // maps print in sorted key order
  ['{{ .Nil }}', '<no value>'],
  ['{{ .Float }}', '1.5'],
  ['{{ .Env.EMPTY }}', ''],
  ['{{ ("x") }}', 'x'],
  ['{{ (.Nested).Inner.Value }}', 'deep'],
  ['{{ (index .List 1) | toupper }}', 'B'],
  ['{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}', 'relsign_1.2.3_linux_amd64'],
  ['no actions at all', 'no actions at all'],
  ['', ''],
];

export const TEXT_AND_TRIM: Golden[] = [
  ['a {{- /* comment */ -}} b', 'ab'],
  ['{{/* a comment */}}x', 'x'],
  ['a  \n\t{{- .Version }}', 'a1.2.3'],
  ['{{ .Version -}}  \n  b', '1.2.3b'],
  ['a \n{{- 5 -}}\n b', 'a5b'],
  ['x{{-3}}', 'x-3'], // no space after "-": a negative number, not a trim marker
  ['{{ 3 -}}{{- 4 }}', '34'],
  ['{{ printf\n  "%s"\n  .Version }}', '1.2.3'], // newlines inside actions
  ['a}}b', 'a}}b'],
];

export const LITERALS: Golden[] = [
  ['{{ "a\\tb" }}', 'a\tb'],
  ['{{ `raw\\n` }}', 'raw\\n'],
  ['{{ "\\u00e9\\x41\\101" }}', 'éAA'],
  ['{{ 42 }}', '42'],
  ['{{ -7 }}', '-7'],
  ['{{ 0x1F }}', '31'],
  ['{{ 0o17 }} {{ 017 }} {{ 0b101 }}', '15 15 5'],
  ['{{ 1_000 }}', '1000'],
  ["{{ 'a' }}", '97'],
  ['{{ 1.5 }}', '1.5'],
  ['{{ 1e3 }}', '1000'],
  ['{{ true }} {{ false }}', 'true false'],
];

export const PIPELINES: Golden[] = [
  ['{{ .Version | printf "v%s" }}', 'v1.2.3'],
  ['{{ "a" | printf "%s-%s" "b" }}', 'b-a'], // the piped value is the LAST argument
  ['{{ trimprefix .Tag "v" }}', '1.2.3'],
  ['{{ .Tag | trimprefix "v" }}', 'v'], // = trimprefix "v" .Tag: trims "v1.2.3" from "v"
  ['{{ .Tag | replace "v" "" }}', 'v1.2.3vv1.2.3'], // = replace "v" "" .Tag: empty old matches around every rune
  ['{{ .ProjectName | toupper | printf "%s!" }}', 'RELSIGN!'],
  ['{{ "x" | printf "%s%s" (printf "%s" .Os) }}', 'linuxx'],
];

export const VARIABLES: Golden[] = [
  ['{{ $x := "a" }}{{ $x }}', 'a'],
  ['{{ $x := 1 }}{{ $x = 2 }}{{ $x }}', '2'],
  ['{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', '2'],
  ['{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', '21'],
  ['{{ with $v := .Version }}{{ $v }}{{ end }}', '1.2.3'],
  ['{{ $.ProjectName }}', 'relsign'],
  ['{{ $m := .Map }}{{ $m.b }}', '2'],
];

export const CONTROL: Golden[] = [
  ['{{ if .IsDraft }}draft{{ end }}', 'draft'],
  ['{{ if .IsSnapshot }}snap{{ else }}rel{{ end }}', 'rel'],
  ['{{ if eq .Os "windows" }}w{{ else if eq .Os "linux" }}l{{ else }}o{{ end }}', 'l'],
  ['{{ if eq .Os "windows" }}w{{ else if eq .Os "darwin" }}d{{ else }}o{{ end }}', 'o'],
  ['{{ if and .IsDraft (not .IsSnapshot) }}ok{{ end }}', 'ok'],
  // truthiness: false, 0, "", nil, empty slices and maps are false
  ['{{ if 0 }}t{{ else }}f{{ end }}{{ if "" }}t{{ else }}f{{ end }}{{ if .Empty }}t{{ else }}f{{ end }}{{ if .Nil }}t{{ else }}f{{ end }}', 'ffff'],
  ['{{ if 1 }}t{{ end }}{{ if "0" }}t{{ end }}{{ if .List }}t{{ end }}{{ if .Map }}t{{ end }}{{ if .Float }}t{{ end }}', 'ttttt'],
  ['{{ if .Env.EMPTY }}t{{ else }}f{{ end }}', 'f'],
  ['{{ with .Env.FOO }}{{ . }}{{ end }}', 'bar'],
  ['{{ with .Env.EMPTY }}x{{ else }}empty{{ end }}', 'empty'],
  ['{{ with .Env.EMPTY }}x{{ else with .Env.FOO }}{{ . }}{{ end }}', 'bar'],
  ['{{ with .Nested }}{{ .Inner.Value }}{{ end }}', 'deep'],
  ['{{ range .List }}{{ . }},{{ end }}', 'a,b,c,'],
  ['{{ range $i, $e := .List }}{{ $i }}={{ $e }} {{ end }}', '0=a 1=b 2=c '],
  ['{{ range $e := .List }}{{ $e }}{{ end }}', 'abc'], // one variable: the element
  ['{{ range $k, $v := .Map }}{{ $k }}{{ $v }}{{ end }}', 'a1b2c3'], // sorted keys
  ['{{ range .Map }}{{ . }}{{ end }}', '123'],
  ['{{ range .Empty }}x{{ else }}none{{ end }}', 'none'],
  ['{{ range .Nil }}x{{ else }}nil{{ end }}', 'nil'],
  ['{{ range 3 }}{{ . }}{{ end }}', '012'],
  ['{{ range .List }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}', 'a'],
  ['{{ range .List }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ . }}{{ end }}', 'ac'],
  ['{{ range $i, $e := .List }}{{ if $i }}, {{ end }}{{ $e }}{{ end }}', 'a, b, c'],
  ['{{ range .List }}{{ $.Os }}{{ end }}', 'linuxlinuxlinux'],
  ['{{ $i := 0 }}{{ range .List }}{{ $i = . }}{{ end }}{{ $i }}', 'c'],
  ['{{ range $i, $e := .List }}{{ end }}{{ range $i, $e := .List }}{{ $e }}{{ end }}', 'abc'],
];

export const BUILTINS: Golden[] = [
  ['{{ eq .Os "linux" }}', 'true'],
  ['{{ eq .Os "darwin" "linux" }}', 'true'], // eq a b c = a==b || a==c
  ['{{ eq .Os "darwin" "windows" }}', 'false'],
  ['{{ eq .Major 1 }} {{ eq .Float 1.5 }} {{ eq true true }}', 'true true true'],
  ['{{ eq .Nil nil }}', 'true'],
  ['{{ ne .Arch "arm64" }}', 'true'],
  ['{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge .Major 2 }}', 'true true true false'],
  ['{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 "" "x" }}|{{ or 0 "" }}|', '0|2|x||'],
  ['{{ or .Env.EMPTY "default" }}', 'default'],
  ['{{ or true .Missing }} {{ and false .Missing }}', 'true false'], // short-circuit: .Missing is never evaluated
  ['{{ not .IsDraft }} {{ not "" }}', 'false true'],
  ['{{ len .List }} {{ len "héllo" }} {{ len .Map }}', '3 6 3'], // len of a string counts bytes
  ['{{ index .List 1 }}', 'b'],
  ['{{ index .Map "b" }}', '2'],
  ['[{{ index .Env "MISSING" }}]', '[]'], // index of a missing key gives the zero value, not an error
  ['{{ index .Nested "Inner" "Value" }}', 'deep'],
  ['{{ index "abc" 1 }}', '98'],
  ['{{ slice .List 1 }} {{ slice "abcdef" 1 3 }}', '[b c] bc'],
  ['{{ print "a" "b" }}|{{ print 1 2 }}|{{ print "a" 1 2 "b" }}', 'ab|1 2|a1 2b'],
  ['{{ println "a" 1 }}', 'a 1\n'],
  ['{{ html "<a href=\\"x\\">&\'" }}', '&lt;a href=&#34;x&#34;&gt;&amp;&#39;'],
  ['{{ urlquery "a b&c=d/e" }}', 'a+b%26c%3Dd%2Fe'],
  ['{{ js "it\'s <b>" }}', "it\\'s \\u003Cb\\u003E"],
  ['{{ call .Fn "x" }}', 'x!'],
];

export const PRINTF: Golden[] = [
  ['{{ printf "%s-%d" .ProjectName 5 }}', 'relsign-5'],
  ['{{ printf "%05d" 42 }}', '00042'],
  ['{{ printf "%.2f" 3.14159 }}', '3.14'],
  ['{{ printf "%6.2f|" 3.14159 }}', '  3.14|'],
  ['{{ printf "%08.3f" -3.14159 }}', '-003.142'],
  ['{{ printf "%.0f %.0f" 2.5 3.5 }}', '2 4'], // round half to even
  ['{{ printf "%f" 1.5 }}', '1.500000'],
  ['{{ printf "%e" 1234.5678 }}', '1.234568e+03'],
  ['{{ printf "%g %g %g" 0.000001 1.5 1234567.5 }}', '1e-06 1.5 1.2345675e+06'],
  ['{{ printf "%G" 0.0000001 }}', '1E-07'],
  ['{{ printf "%q" "a\\"b\\n" }}', '"a\\"b\\n"'],
  ['{{ printf "%q" .List }}', '["a" "b" "c"]'],
  ['{{ printf "%x %X %#x %o %b" 255 255 255 8 5 }}', 'ff FF 0xff 10 101'],
  ['{{ printf "%x" -255 }}', '-ff'],
  ['{{ printf "%x|% x|%X" "hello" "hi" "hi" }}', '68656c6c6f|68 69|6869'],
  ['{{ printf "%+d % d" 5 5 }}', '+5  5'],
  ['{{ printf "%c %q %U" 65 65 65 }}', "A 'A' U+0041"],
  ['{{ printf "%v|%v|%v" .List .Map true }}', '[a b c]|map[a:1 b:2 c:3]|true'],
  ['{{ printf "%t" true }}', 'true'],
  ['{{ printf "%%" }}', '%'],
  ['{{ printf "%5s|%-5s|" "ab" "cd" }}', '   ab|cd   |'],
  ['{{ printf "%.3s" "abcdef" }}', 'abc'],
  ['{{ printf "%T %T %T %T" .List 1 "s" .Map }}', '[]string int string map[string]string'],
  ['{{ printf "%[2]s %[1]s" "a" "b" }}', 'b a'],
  ['{{ printf "%*d|" 5 42 }}', '   42|'],
  ['{{ printf "%v %v" true nil }}', 'true <nil>'],
  ['{{ printf "%v" .Nil }}', '<nil>'],
  // Go's error forms
  ['{{ printf "%d" "x" }}', '%!d(string=x)'],
  ['{{ printf "%d" 1.5 }}', '%!d(float64=1.5)'],
  ['{{ printf "%s" 5 }}', '%!s(int=5)'],
  ['{{ printf "%s" }}', '%!s(MISSING)'],
  ['{{ printf "%s" "a" "b" }}', 'a%!(EXTRA string=b)'],
  ['{{ printf "%z" 1 }}', '%!z(int=1)'],
  ['{{ printf "%q" "\\x01é\\u200b" }}', '"\\x01é\\u200b"'], // strconv.Quote keeps printable runes only
  ['{{ printf "%+q" "é" }}', '"\\u00e9"'],
  ['{{ printf "%v %v %v %v" 0.1 100000.5 1234567.5 -0.00001 }}', '0.1 100000.5 1.2345675e+06 -1e-05'], // %v of a float is %g
  ['{{ printf "%.3g|%.10g|%8.3e|%+.1f" 1234.5 0.5 0.5 0.25 }}', '1.23e+03|0.5|5.000e-01|+0.2'],
  ['{{ printf "abc%" }}', 'abc%!(NOVERB)'],
];

export const GORELEASER: Golden[] = [
  ['{{ replace "v1.24" "v" "" }}', '1.24'],
  ['{{ split "1.2.3" "." }}', '[1 2 3]'],
  ['{{ index (split "a,b" ",") 1 }}', 'b'],
  ['{{ range split "a b" " " }}<{{ . }}>{{ end }}', '<a><b>'],
  ['{{ contains "TEST_TEST_TEST" "TEST" }} {{ contains "abc" "x" }}', 'true false'],
  ['{{ tolower "TeSt" }} {{ toupper "test" }}', 'test TEST'],
  ['{{ toupper "straße" }}', 'STRAßE'], // strings.ToUpper maps rune by rune: ß has no single-rune upper case
  ['[{{ trim "  x y \\n" }}]', '[x y]'],
  ['{{ trimprefix "v1.2.4" "v" }} {{ trimprefix "1.2.4" "v" }}', '1.2.4 1.2.4'],
  ['{{ trimsuffix .GitURL ".git" }}', 'https://github.com/acme/relsign'],
  ['{{ title "file" }}', 'File'],
  ['{{ title "hello wORLD" }}', 'Hello World'], // the rest of each word is lower-cased
  ['{{ title "foo-bar_baz o\'neil a.b" }}', "Foo-Bar_baz O'neil A.b"],
  ['{{ title "ǆemal ßtraße élan" }}', 'ǅemal Sstraße Élan'], // title-case mappings, not upper-case
  ['{{ title "3rd place" }}', '3Rd Place'], // x/text: a digit does not start a word, so the letter after it is title-cased
  ['{{ tolower "İSTANBUL" }}', 'istanbul'],
  ['{{ len (trim "\\ufeff") }} {{ len (trim "\\u0085x\\u00a0") }}', '3 1'], // unicode.IsSpace: U+0085 yes, U+FEFF no
  ['{{ dir "a/b/c.txt" }} {{ dir "a" }} {{ dir "/a/b/" }} {{ dir "" }}', 'a/b . /a/b .'],
  ['{{ base "a/b/c.txt" }} {{ base "/a/b/" }} {{ base "" }} {{ base "/" }}', 'c.txt b . /'],
  ['{{ base .ArtifactPath }}', 'relsign_1.2.3_linux_amd64.tar.gz'],
  ['{{ join "a" "b" ".." "c" }}', 'a/c'],
  ['{{ join "/a" "b/" }}|{{ join "" "" }}|{{ join }}', '/a/b||'],
  ['{{ .Tag | incpatch }} {{ .Version | incpatch }}', 'v1.2.4 1.2.4'],
  ['{{ .Tag | incminor }} {{ .Version | incminor }}', 'v1.3.0 1.3.0'],
  ['{{ .Tag | incmajor }} {{ .Version | incmajor }}', 'v2.0.0 2.0.0'],
  ['{{ incpatch "1.2.3-rc.1" }}', '1.2.3'], // a prerelease is released, not bumped
  ['{{ incminor "v1.2.3-rc.1+build.5" }} {{ incpatch "1.2" }} {{ incmajor "0.1.0" }}', 'v1.3.0 1.2.1 1.0.0'],
  ['{{ filter .Env.MULTILINE ".*remove.*" }}', 'remove this'],
  ['{{ reverseFilter .Env.MULTILINE ".*remove.*" }}', 'something with\nmultiple lines\n to test things'],
  ['{{ filter "abc\\n123\\nx1" "^[[:alpha:]]+$" }}', 'abc'],
  ['[{{ filter "abc" "z" }}]', '[]'],
  ['{{ mdv2escape "aaa_*[]()~`>#+-=|{}.!" }}', 'aaa\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!'],
  ['{{ envOrDefault "FOO" "x" }} {{ envOrDefault "NOPE" "x" }} [{{ envOrDefault "EMPTY" "x" }}]', 'bar x []'], // default only when absent
  ['{{ isEnvSet "FOO" }} {{ isEnvSet "EMPTY" }} {{ isEnvSet "NOPE" }}', 'true false false'], // set means present and non-empty
  ['{{ $m := map "a" "1" "b" "2" }}{{ index $m "a" }}{{ indexOrDefault $m "b" "10" }}{{ indexOrDefault $m "c" "3" }}{{ index $m "z" }}', '123'],
  ['{{ indexOrDefault .Env "FOO" "d" }} {{ indexOrDefault .Env "NOPE" "d" }}', 'bar d'],
  ['/{{ urlPathEscape .Env.WITH_SLASHES }}', '/foo%2Fbar'],
  ['{{ urlPathEscape "a b+c@d?e" }}', 'a%20b+c@d%3Fe'],
  ['{{ list "single item" "" | englishJoin }}', 'single item'],
  ['{{ list "two" "items" "" | englishJoin }}', 'two and items'],
  ['{{ list "many" "" "more" "items" " " | englishJoin }}', 'many, more, and items'],
  ['no items{{ list "" "" | englishJoin }}', 'no items'],
  ['{{ list "a" "b" }} {{ len (list "a" "b") }}', '[a b] 2'],
];

/** `time` formats now (UTC); the tests freeze the clock at this instant. */
export const NOW = new Date('2024-03-09T02:06:02.123Z');
export const TIME: Golden[] = [
  ['{{ time "2006-01-02" }}', '2024-03-09'],
  ['{{ time "01/02/2006" }}', '03/09/2024'],
  ['{{ time "2006-01-02T15:04:05Z07:00" }}', '2024-03-09T02:06:02Z'],
  ['{{ time "Mon Jan _2 15:04:05 MST 2006" }}', 'Sat Mar  9 02:06:02 UTC 2024'],
  ['{{ time "Monday, January 2, 2006 3:04PM" }}', 'Saturday, March 9, 2024 2:06AM'],
  ['{{ time "20060102150405" }}', '20240309020602'],
  ['{{ time "2006-01-02 15:04:05.000 -0700" }}', '2024-03-09 02:06:02.123 +0000'],
  ['{{ time ".999999999|.9|,000|.000000" }}', '.123|.1|,123|.123000'],
  ['{{ time "002 __2 06 pm 03" }}', '069  69 24 am 02'],
  ['{{ time "Z0700 -07:00 -07 Z07" }}', 'Z +00:00 +00 Z'],
  ['{{ time "Month Jan 2nd" }}', 'Month Mar 9nd'], // "Mon" before a lower-case letter is literal
  ['{{ time "_2006" }}', '_2024'],
];

export const ALL_GOLDEN: Record<string, Golden[]> = {
  fields: FIELDS,
  'text and trim markers': TEXT_AND_TRIM,
  literals: LITERALS,
  pipelines: PIPELINES,
  variables: VARIABLES,
  'control structures': CONTROL,
  builtins: BUILTINS,
  printf: PRINTF,
  'goreleaser functions': GORELEASER,
};

/** [template, exact message] with the template named "t". */
export const ERRORS: Array<readonly [string, string]> = [
  // syntax
  ['{{ .Version }', 'template t:1:12: unexpected "}" in operand'],
  ['{{ .Version ', 'template t:1:12: unclosed action'],
  ['{{ if .IsDraft }}a', 'template t:1:18: unexpected EOF'],
  ['{{ end }}', 'template t:1:7: unexpected {{end}}'],
  ['{{ else }}', 'template t:1:8: unexpected {{else}}'],
  ['{{ if }}{{ end }}', 'template t:1:6: missing value for if'],
  ['{{ }}', 'template t:1:3: missing value for command'],
  ['{{ $x }}', 'template t:1:3: undefined variable "$x"'],
  ['{{ .Os | "x" }}', 'template t:1:9: non executable command in pipeline stage 2'],
  ['{{{.Foo}', 'template t:1:2: unexpected "{" in command'],
  ['{{ "abc }}', 'template t:1:3: unterminated quoted string'],
  ['{{ break }}', 'template t:1:3: {{break}} outside {{range}}'],
  ['{{ define "x" }}{{ end }}', 'template t:1:3: {{define}} is not supported (one template per field)'],
  ['{{/* x */ }}', 'template t:1:2: comment ends before closing delimiter'],
  ['{{ 3x }}', 'template t:1:3: bad number syntax: "3x"'],
  ['{{ (1 }}', 'template t:1:6: unclosed left paren'],
  ['{{ "\\q" }}', 'template t:1:3: invalid syntax'],
  ['{{ range $a, $b, $c := .List }}{{ end }}', 'template t:1:15: too many declarations in range'],
  ['line one\n  {{ .Os }} {{ .Os ', 'template t:2:19: unclosed action'],
  ['{{ .Os\n\n', 'template t:3:0: unclosed action started at line 1'],
  ['{{ printf "%s"\n "abc }}', 'template t:2:1: unterminated quoted string in action started at line 1'],
  // unknown function
  ['{{ tolowr .Version }}', 'template t:1:3: function "tolowr" not defined'],
  // missing key / field errors name the field
  ['{{ .Versoin }}', 'template t:1:3: map has no entry for key "Versoin" (field .Versoin)'],
  ['{{ .Env.NOPE }}', 'template t:1:3: map has no entry for key "NOPE" (field .Env.NOPE)'],
  ['{{ $.Versoin }}', 'template t:1:3: map has no entry for key "Versoin" (field $.Versoin)'],
  ['a\n {{ range .List }}{{ .Name }}{{ end }}', 'template t:2:21: can\'t evaluate field Name in type string (field .Name)'],
  ['{{ .Version.Foo }}', "template t:1:3: can't evaluate field Foo in type string (field .Version.Foo)"],
  ['{{ .Nil.Foo }}', 'template t:1:3: nil pointer evaluating interface {}.Foo (field .Nil.Foo)'],
  // calling a non-function
  ['{{ .Version "x" }}', 'template t:1:3: Version is not a method but has arguments (field .Version)'],
  ['{{ "x" | .Version }}', 'template t:1:9: Version is not a method but has arguments (field .Version)'],
  ['{{ $x := 1 }}{{ $x 2 }}', "template t:1:16: can't give argument to non-function $x"],
  ['{{ nil }}', 'template t:1:3: nil is not a command'],
  ['{{ .Fn }}', "template t:1:3: can't print {{.Fn}} of type func"],
  // argument count and types
  ['{{ tolower "A" "B" }}', 'template t:1:3: wrong number of args for tolower: want 1 got 2'],
  ['{{ "a" | replace "b" }}', 'template t:1:9: wrong number of args for replace: want 3 got 2'],
  ['{{ and }}', 'template t:1:3: wrong number of args for and: want at least 1 got 0'],
  ['{{ tolower .Major }}', 'template t:1:11: wrong type for value; expected string; got int'],
  ['{{ tolower 5 }}', 'template t:1:11: expected string; found 5'],
  ['{{ tolower nil }}', 'template t:1:11: cannot assign nil to string'],
  ['{{ .Nil | tolower }}', 'template t:1:10: invalid value; expected string'],
  ['{{ englishJoin "a" }}', "template t:1:15: can't handle \"a\" for arg of type []string"],
  // errors returned by functions
  ['{{ index .List 5 }}', 'template t:1:3: error calling index: index out of range: 5'],
  ['{{ index .List "x" }}', 'template t:1:3: error calling index: cannot index slice/array with type string'],
  ['{{ incpatch "notsemver" }}', 'template t:1:3: error calling incpatch: invalid semantic version'],
  ['{{ .Version | incminor }}{{ incmajor "v1.x" }}', 'template t:1:28: error calling incmajor: invalid semantic version'],
  ['{{ $m := map "a" }}', 'template t:1:9: error calling map: map expects even number of arguments, got 1'],
  ['{{ eq "1" 1 }}', 'template t:1:3: error calling eq: incompatible types for comparison'],
  ['{{ eq "1" }}', 'template t:1:3: error calling eq: missing argument for comparison'],
  ['{{ lt .List .List }}', 'template t:1:3: error calling lt: invalid type for comparison'],
  ['{{ len 3 }}', 'template t:1:3: error calling len: len of type int'],
  ['{{ mustReadFile "/nonexistent/relsign-x" }}', 'template t:1:3: error calling mustReadFile: open /nonexistent/relsign-x: no such file or directory'],
  ['{{ sha256 "/nonexistent/relsign-x" }}', 'template t:1:3: error calling sha256: failed to checksum: open /nonexistent/relsign-x: no such file or directory'],
  ['{{ range .Version }}{{ end }}', "template t:1:3: range can't iterate over 1.2.3"],
];
