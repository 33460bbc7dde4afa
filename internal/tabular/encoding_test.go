package tabular

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cutover/cutover/internal/cutover"
	xenc "golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// legacyFixtures are small exports in the languages each code page is
// used for, written here in UTF-8 and encoded by the test itself.
var legacyFixtures = []struct {
	want  string
	codec xenc.Encoding
	text  string
}{
	{"big5", traditionalchinese.Big5, "編號,姓名,地址,電話,備註\n1,王小明,臺北市中正區重慶南路一段122號,02-2311-3731,會員資料已更新\n2,陳美玲,高雄市前鎮區中山二路5號,07-336-8333,請於下午聯絡\n3,林志豪,臺中市西屯區臺灣大道三段99號,04-2228-9111,公司地址變更\n"},
	{"gb18030", simplifiedchinese.GBK, "编号,姓名,地址,电话,备注\n1,张伟,北京市朝阳区建国路88号,010-6500-1234,已经联系过\n2,李娜,上海市浦东新区世纪大道100号,021-5888-9999,请在下午打电话\n3,刘洋,广州市天河区体育西路191号,020-3888-1111,公司地址变更\n"},
	{"shift_jis", japanese.ShiftJIS, "番号,氏名,住所,電話番号,備考\n1,山田太郎,東京都千代田区丸の内一丁目1番1号,03-1234-5678,お客様の情報を更新しました\n2,佐藤花子,大阪府大阪市北区梅田三丁目2番,06-9876-5432,午後に電話してください\n3,鈴木一郎,愛知県名古屋市中区栄四丁目,052-111-2222,株式会社の住所が変わりました\n"},
	{"euc-jp", japanese.EUCJP, "番号,氏名,住所,備考\n1,山田太郎,東京都千代田区丸の内一丁目,お客様の情報を更新しました\n2,佐藤花子,大阪府大阪市北区梅田,午後に電話してください\n"},
	{"euc-kr", korean.EUCKR, "번호,이름,주소,전화,메모\n1,김민수,서울특별시 종로구 세종대로 175,02-2100-1234,회원 정보가 변경되었습니다\n2,이지은,부산광역시 해운대구 우동 1418,051-749-4000,오후에 전화해 주세요\n3,박서준,대구광역시 중구 동성로 12,053-803-2000,회사 주소가 바뀌었습니다\n"},
	{"koi8-r", charmap.KOI8R, "Фамилия;Имя;Город;Улица;Примечание\nИванов;Сергей;Москва;ул. Тверская, д. 7;Позвонить после обеда\nПетрова;Анна;Санкт-Петербург;Невский проспект, д. 28;Новый адрес компании\nСидоров;Дмитрий;Новосибирск;Красный проспект, д. 15;Клиент с прошлого года\n"},
	{"windows-1251", charmap.Windows1251, "Фамилия;Имя;Город;Улица;Примечание\nИванов;Сергей;Москва;ул. Тверская, д. 7;Позвонить после обеда\nПетрова;Анна;Санкт-Петербург;Невский проспект, д. 28;Новый адрес компании\nСидоров;Дмитрий;Новосибирск;Красный проспект, д. 15;Клиент с прошлого года\n"},
	{"iso-8859-2", charmap.ISO8859_2, "Nazwisko;Imię;Miasto;Ulica;Uwagi\nKowalski;Paweł;Łódź;ul. Piotrkowska 104;Zadzwonić po południu\nWiśniewska;Małgorzata;Kraków;ul. Floriańska 15;Nowy adres firmy\nWójcik;Józef;Gdańsk;ul. Długa 45;Klient od zeszłego roku\n"},
	{"windows-1250", charmap.Windows1250, "Příjmení;Jméno;Město;Ulice;Poznámka\nNovák;Jiří;Plzeň;Americká třída 12;Zavolat odpoledne\nSvobodová;Šárka;České Budějovice;Lannova 8;Nová adresa společnosti\nDvořák;Tomáš;Brno;Masarykova 31;Zákazník od loňského roku\n"},
	{"windows-1252", charmap.Windows1252, "Nom;Prénom;Ville;Adresse;Remarque\nDupont;Hélène;Besançon;12 rue de l’Église;Rappeler après-midi – “urgent”\nMüller;Jürgen;Köln;Straße 5;Kunde seit 2019 … € 50\nGarcía;Begoña;Málaga;Calle Mayor 3;Cliente desde el año pasado\n"},
	{"iso-8859-15", charmap.ISO8859_15, "Nom;Prénom;Ville;Remarque\nLefèvre;Maël;Besançon;Le cœur du dossier : 50 € par mois\nŒuvre;Zoé;Nancy;Sœur de la cliente, 30 € d'acompte\n"},
}

// TestLegacyEncodingsDetected reads each fixture with no encoding given
// and checks the name, that detection is confident, and that the text
// comes back exactly as written, whatever the read sizes.
func TestLegacyEncodingsDetected(t *testing.T) {
	for _, fx := range legacyFixtures {
		t.Run(fx.want, func(t *testing.T) {
			raw, err := fx.codec.NewEncoder().Bytes([]byte(fx.text))
			if err != nil {
				t.Fatal(err)
			}
			want := readOne(t, fx.text, Options{})
			for _, src := range []*bytes.Reader{bytes.NewReader(raw)} {
				for i, rd := range []interface{ Read([]byte) (int, error) }{src, iotest.OneByteReader(bytes.NewReader(raw))} {
					res, err := readAll(t, rd, "export.csv", Options{})
					if err != nil {
						t.Fatalf("reader %d: %v", i, err)
					}
					got := res[0]
					if got.format.Encoding != fx.want {
						t.Errorf("reader %d: encoding %q (confidence %.2f, alternatives %v), want %q", i, got.format.Encoding, got.format.EncodingConfidence, got.format.EncodingAlternatives.List(), fx.want)
					}
					if got.format.EncodingConfidence < LowConfidence {
						t.Errorf("reader %d: confidence %.2f", i, got.format.EncodingConfidence)
					}
					if !reflect.DeepEqual(got.header, want.header) || !reflect.DeepEqual(got.rows, want.rows) {
						t.Errorf("reader %d: decoded %q %q, want %q %q", i, got.header, got.rows, want.header, want.rows)
					}
				}
			}
			// Given explicitly, the same text; the name is reported as given.
			res, err := readAll(t, bytes.NewReader(raw), "export.csv", Options{Encoding: strings.ToUpper(fx.want)})
			if err != nil || res[0].format.Encoding != fx.want || res[0].format.EncodingConfidence != 1 || !reflect.DeepEqual(res[0].rows, want.rows) {
				t.Errorf("given: %v %+v", err, res)
			}
		})
	}
}

// TestPlainASCIIIsUTF8 and the 1252/Latin-1 evidence: C1 bytes (0x80-0x9F)
// are windows-1252 punctuation, never ISO-8859-x controls.
func TestPlainASCIIIsUTF8(t *testing.T) {
	r := readOne(t, "name,city\nAda,Leeds\n", Options{})
	if r.format.Encoding != "utf-8" || r.format.EncodingConfidence != 1 {
		t.Errorf("ASCII: %+v", r.format)
	}
	r = readOne(t, "name,note\nAda,\x93quoted\x94 \x96 it\x92s\n", Options{})
	if r.format.Encoding != "windows-1252" || r.rows[0][1] != "“quoted” – it’s" {
		t.Errorf("C1 punctuation: %+v %q", r.format, r.rows)
	}
}

// TestUncertainEncodingRefused: a few bytes that several code pages read
// equally well are refused with the candidates named, unless the caller
// allows a guess (inspect), which then reports a low confidence.
func TestUncertainEncodingRefused(t *testing.T) {
	// Two high bytes that read as plausible letters in several pages.
	data := "name\nx\xC4\xE5\n"
	_, err := readAll(t, strings.NewReader(data), "short.csv", Options{})
	var ce *cutover.Error
	if !errors.As(err, &ce) || ce.Code != cutover.EINVALID || !strings.Contains(err.Error(), "cannot be told for sure") || !strings.Contains(err.Error(), "Choose the file's encoding") {
		t.Fatalf("err %v", err)
	}
	res, err := readAll(t, strings.NewReader(data), "short.csv", Options{AllowUncertainEncoding: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := res[0].format; f.EncodingConfidence >= LowConfidence || len(f.EncodingAlternatives.List()) == 0 {
		t.Errorf("format %+v", f)
	}
}

// TestLegacyInvalidBytesRefused: a byte sequence the given code page does
// not define is an error with its place, not a U+FFFD in a record.
func TestLegacyInvalidBytesRefused(t *testing.T) {
	_, err := readAll(t, strings.NewReader("name\n\x82\xFF\n"), "bad.csv", Options{Encoding: "shift_jis"})
	if err == nil || !strings.Contains(err.Error(), "is not valid shift_jis") {
		t.Fatalf("err %v", err)
	}
}
