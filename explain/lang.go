package explain

import (
	"sort"
	"strings"
)

// Headings are the section titles of explain's text output. Only the
// headings are translated; the explanations themselves stay in English.
type Headings struct {
	Meaning        string // "Description"
	When           string // "When you see it"
	Fix            string // "How to fix it"
	KeyDifferences string // "Key differences"
	WhenWhich      string // "When to use which"
	Class          string
	Category       string
	ShortText      string
	Actor          string
	Refs           string
	Enhanced       string
	Recognized     string
	BasicCode      string // "Basic code", before the code's own reading when a recognizer matched
	IANAMeaning    string
	Warnings       string
	Notes          string
	PerCommand     string
	Context        string
	General        string
	Comparison     string
	Reply          string
}

// Languages holds the headings per language tag. Adding a language is
// adding one entry here.
var Languages = map[string]Headings{
	"en": {
		Meaning:        "Description",
		When:           "When you see it",
		Fix:            "How to fix it",
		KeyDifferences: "Key differences",
		WhenWhich:      "When to use which",
		Class:          "Class",
		Category:       "Category",
		ShortText:      "RFC text",
		Actor:          "Who acts",
		Refs:           "References",
		Enhanced:       "Enhanced code",
		Recognized:     "Recognised",
		BasicCode:      "Basic code",
		IANAMeaning:    "IANA meaning",
		Warnings:       "Warnings",
		Notes:          "Notes",
		PerCommand:     "How it changes per command",
		Context:        "Context",
		General:        "general meaning (no command given)",
		Comparison:     "Comparison",
		Reply:          "Reply",
	},
	"tr": {
		Meaning:        "Açıklama",
		When:           "Gördüğünüzde",
		Fix:            "Nasıl Düzeltilir",
		KeyDifferences: "Temel Farklar",
		WhenWhich:      "Hangisini Ne Zaman Kullanmalı",
		Class:          "Sınıf",
		Category:       "Kategori",
		ShortText:      "RFC metni",
		Actor:          "Kim yapmalı",
		Refs:           "Kaynaklar",
		Enhanced:       "Gelişmiş kod",
		Recognized:     "Tanınan",
		BasicCode:      "Temel kod",
		IANAMeaning:    "IANA anlamı",
		Warnings:       "Uyarılar",
		Notes:          "Notlar",
		PerCommand:     "Komuta göre nasıl değişir",
		Context:        "Bağlam",
		General:        "genel anlam (komut verilmedi)",
		Comparison:     "Karşılaştırma",
		Reply:          "Yanıt",
	},
}

// LookupLanguage finds the headings for a language tag or locale such as
// "tr", "tr_TR.UTF-8" or "en-GB". ok is false for a language without
// headings; "", "C" and "POSIX" give English.
func LookupLanguage(tag string) (h Headings, ok bool) {
	t := strings.ToLower(tag)
	if i := strings.IndexAny(t, "_-.@"); i >= 0 {
		t = t[:i]
	}
	if t == "" || t == "c" || t == "posix" {
		return Languages["en"], true
	}
	h, ok = Languages[t]
	return h, ok
}

// LanguageTags lists the languages with headings.
func LanguageTags() []string {
	tags := make([]string, 0, len(Languages))
	for t := range Languages {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags
}
