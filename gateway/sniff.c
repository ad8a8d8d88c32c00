/*
 * sniff: see sniff.h. libmagic names the type; the tables below say which
 * types and names are dangerous. Two checks are by hand, each a few lines
 * where a library would be out of proportion:
 * - a VBA project in an OLE (compound file) document is found by the name
 *   of its directory entry, "_VBA_PROJECT", which the format stores as
 *   plain UTF-16LE (libgsf would read the directory properly, but would
 *   bring GLib into the gateway for one name);
 * - VHDX images start with "vhdxfile", which libmagic 5.44 recognises
 *   without giving a MIME type.
 */
#include "build-config.h"

#include <magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "gateway/arclist.h"
#include "gateway/sniff.h"

/* One libmagic handle asked for the MIME type or for the human description
   by switching its flags: each handle maps the whole magic database (8 MB
   in Debian's libmagic-mgc) and a lookup that matches late (text, data)
   reads all of it, so two handles kept 16 MB resident where one keeps 8
   (docs/performance.md, peak RSS). */
struct sniff {
	magic_t magic;
	int flags; /* MAGIC_MIME_TYPE or MAGIC_NONE: what magic answers now */
	struct sniff_limits limits;
};

static const char *const kind_names[SNIFF_KIND_COUNT] = {
	"safe", "executable", "script", "shortcut", "disk image", "macros", "archive", "HTML",
	"type mismatch",
};

const char *
sniff_kind_name(enum sniff_kind kind)
{
	return (unsigned int)kind < SNIFF_KIND_COUNT ? kind_names[kind] : "?";
}

void
sniff_limits_default(struct sniff_limits *limits)
{
	limits->max_magic_bytes = 1024 * 1024;
	limits->max_entries = 10000;
	limits->max_depth = 3;
	limits->max_entry_bytes = 16 * 1024 * 1024;
	limits->max_archive_bytes = 64 * 1024 * 1024;
}

static magic_t
magic_start(int flags, const char **error_r)
{
	magic_t m = magic_open(flags | MAGIC_ERROR);
	if (m == NULL) {
		*error_r = "libmagic: cannot start";
		return NULL;
	}
	if (magic_load(m, NULL) != 0) {
		*error_r = errf("libmagic: cannot load the magic database (Debian: libmagic-mgc): %s",
				magic_error(m) != NULL ? magic_error(m) : "unknown error");
		magic_close(m);
		return NULL;
	}
	return m;
}

struct sniff *
sniff_new(const struct sniff_limits *limits, const char **error_r)
{
	struct sniff *s = xcalloc(1, sizeof(*s));
	if (limits != NULL)
		s->limits = *limits;
	else
		sniff_limits_default(&s->limits);
	s->flags = MAGIC_MIME_TYPE;
	s->magic = magic_start(s->flags, error_r);
	if (s->magic == NULL) {
		sniff_free(&s);
		return NULL;
	}
	return s;
}

void
sniff_free(struct sniff **sp)
{
	struct sniff *s = *sp;
	if (s == NULL)
		return;
	if (s->magic != NULL)
		magic_close(s->magic);
	free(s);
	*sp = NULL;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

static const char *const exec_types[] = {
	"application/vnd.microsoft.portable-executable", "application/x-dosexec",
	"application/x-msdownload", "application/x-executable", "application/x-pie-executable",
	"application/x-sharedlib", "application/x-mach-binary", "application/x-elf",
	"application/java-archive", "application/x-java-archive", "application/x-msi",
	"application/vnd.android.package-archive", "application/x-ms-installer",
};
static const char *const script_types[] = {
	"text/x-shellscript", "application/x-shellscript", "text/x-msdos-batch", "text/x-python",
	"text/x-script.python", "text/x-perl", "text/x-ruby", "text/x-php", "text/javascript",
	"application/javascript", "application/x-javascript", "text/x-tcl", "text/x-lua",
};
static const char *const shortcut_types[] = {
	"application/x-ms-shortcut", "application/x-mswinurl",
};
static const char *const image_types[] = {
	"application/x-iso9660-image", "application/x-virtualbox-vhd", "application/x-virtualbox-vhdx",
	"application/x-virtualbox-vdi", "application/x-virtualbox-vmdk", "application/x-vmdk",
	"application/x-qemu-disk", "application/x-apple-diskimage", "application/x-raw-disk-image",
	"application/x-udf-image",
};
static const char *const html_types[] = {
	"text/html", "application/xhtml+xml", "image/svg+xml", "application/x-mimearchive",
};
static const char *const ole_types[] = {
	"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	"application/vnd.ms-office", "application/x-ole-storage", "application/CDFV2",
	"application/vnd.visio", "application/vnd.ms-outlook",
};
/* Archives looked into; office containers are zips too. */
static const char *const archive_types[] = {
	"application/zip", "application/x-zip-compressed", "application/x-7z-compressed",
	"application/x-rar", "application/vnd.rar", "application/x-rar-compressed",
	"application/x-tar", "application/gzip", "application/x-gzip", "application/x-bzip2",
	"application/x-xz", "application/x-lzma", "application/zstd",
	"application/vnd.ms-cab-compressed", "application/x-lzip", "application/x-cpio",
};
/* Single compressed files: the entry is the file itself. */
static const char *const compressed_types[] = {
	"application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-xz",
	"application/x-lzma", "application/zstd", "application/x-lzip",
};

/* Extensions that are dangerous whatever the bytes: Windows runs them by
   their name. */
static const struct {
	const char *ext;
	enum sniff_kind kind;
} danger_ext[] = {
	{ "exe", SNIFF_EXECUTABLE }, { "dll", SNIFF_EXECUTABLE }, { "scr", SNIFF_EXECUTABLE },
	{ "com", SNIFF_EXECUTABLE }, { "pif", SNIFF_EXECUTABLE }, { "cpl", SNIFF_EXECUTABLE },
	{ "msi", SNIFF_EXECUTABLE }, { "msp", SNIFF_EXECUTABLE }, { "msc", SNIFF_EXECUTABLE },
	{ "ocx", SNIFF_EXECUTABLE }, { "sys", SNIFF_EXECUTABLE }, { "jar", SNIFF_EXECUTABLE },
	{ "apk", SNIFF_EXECUTABLE }, { "appx", SNIFF_EXECUTABLE }, { "msix", SNIFF_EXECUTABLE },
	{ "bat", SNIFF_SCRIPT }, { "cmd", SNIFF_SCRIPT }, { "ps1", SNIFF_SCRIPT },
	{ "psm1", SNIFF_SCRIPT }, { "vbs", SNIFF_SCRIPT }, { "vbe", SNIFF_SCRIPT },
	{ "js", SNIFF_SCRIPT }, { "jse", SNIFF_SCRIPT }, { "wsf", SNIFF_SCRIPT },
	{ "wsh", SNIFF_SCRIPT }, { "wsc", SNIFF_SCRIPT }, { "hta", SNIFF_SCRIPT },
	{ "sct", SNIFF_SCRIPT }, { "reg", SNIFF_SCRIPT }, { "sh", SNIFF_SCRIPT },
	{ "command", SNIFF_SCRIPT },
	{ "lnk", SNIFF_SHORTCUT }, { "url", SNIFF_SHORTCUT }, { "scf", SNIFF_SHORTCUT },
	{ "website", SNIFF_SHORTCUT },
	{ "iso", SNIFF_DISK_IMAGE }, { "img", SNIFF_DISK_IMAGE }, { "vhd", SNIFF_DISK_IMAGE },
	{ "vhdx", SNIFF_DISK_IMAGE }, { "vmdk", SNIFF_DISK_IMAGE }, { "dmg", SNIFF_DISK_IMAGE },
	{ "docm", SNIFF_MACROS }, { "dotm", SNIFF_MACROS }, { "xlsm", SNIFF_MACROS },
	{ "xltm", SNIFF_MACROS }, { "xlam", SNIFF_MACROS }, { "pptm", SNIFF_MACROS },
	{ "potm", SNIFF_MACROS }, { "ppsm", SNIFF_MACROS }, { "ppam", SNIFF_MACROS },
	{ "sldm", SNIFF_MACROS },
	{ "html", SNIFF_HTML }, { "htm", SNIFF_HTML }, { "xhtml", SNIFF_HTML },
	{ "shtml", SNIFF_HTML }, { "svg", SNIFF_HTML }, { "mht", SNIFF_HTML },
	{ "mhtml", SNIFF_HTML },
};

/* What the bytes of a file with this extension may be (prefixes of MIME
   types); a known extension whose bytes are something else is a
   mismatch. */
static const struct {
	const char *ext;
	const char *types; /* space-separated prefixes */
} expected_types[] = {
	{ "pdf", "application/pdf" },
	{ "jpg", "image/" }, { "jpeg", "image/" }, { "png", "image/" }, { "gif", "image/" },
	{ "bmp", "image/" }, { "webp", "image/" }, { "tif", "image/" }, { "tiff", "image/" },
	{ "heic", "image/" },
	{ "txt", "text/ application/x-empty inode/x-empty" }, { "csv", "text/ application/csv" },
	{ "log", "text/" },
	{ "doc", "application/msword application/vnd.ms-office application/x-ole-storage application/CDFV2" },
	{ "xls", "application/vnd.ms-excel application/vnd.ms-office application/x-ole-storage application/CDFV2" },
	{ "ppt", "application/vnd.ms-powerpoint application/vnd.ms-office application/x-ole-storage application/CDFV2" },
	{ "docx", "application/vnd.openxmlformats-officedocument application/zip" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument application/zip" },
	{ "pptx", "application/vnd.openxmlformats-officedocument application/zip" },
	{ "odt", "application/vnd.oasis.opendocument application/zip" },
	{ "ods", "application/vnd.oasis.opendocument application/zip" },
	{ "zip", "application/zip" }, { "rar", "application/x-rar application/vnd.rar" },
	{ "7z", "application/x-7z-compressed" }, { "gz", "application/gzip application/x-gzip" },
	{ "mp3", "audio/" }, { "wav", "audio/" }, { "mp4", "video/ audio/" }, { "mov", "video/" },
	{ "eml", "message/rfc822 text/" }, { "xml", "text/xml application/xml" },
	{ "json", "application/json text/" },
};

static int
in_list(const char *type, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(type, list[i]) == 0 ||
		    (str_case_starts_with(type, list[i]) && type[strlen(list[i])] == '-'))
			return 1;
	return 0;
}
#define IN(type, list) in_list(type, list, N_ELEMENTS(list))

/* The lower-case extension of the last path element of name ("" for
   none), in buf. Trailing spaces and dots are dropped first, as Windows
   does: "invoice.exe." and "invoice.exe " run as invoice.exe. */
static const char *
extension(const char *name, char *buf, size_t size)
{
	const char *base = name;
	for (const char *p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t end = strlen(base);
	while (end > 0 && (base[end - 1] == ' ' || base[end - 1] == '.'))
		end--;
	size_t dot = end;
	while (dot > 0 && base[dot - 1] != '.')
		dot--;
	buf[0] = '\0';
	if (dot <= 1 || end - dot >= size)
		return buf;
	for (size_t i = dot; i < end; i++)
		buf[i - dot] = (char)((base[i] >= 'A' && base[i] <= 'Z') ? base[i] | 0x20 : base[i]);
	buf[end - dot] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Verdicts                                                            */

/* Take kind with reason when it is more severe than what v holds. */
static void DG_ATTR_PRINTF(3, 4)
flag(struct sniff_verdict *v, enum sniff_kind kind, const char *fmt, ...)
{
	va_list ap;
	if (kind == SNIFF_OK || (v->kind != SNIFF_OK && v->kind <= kind))
		return;
	v->kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void classify(struct sniff *s, const char *mime_type, const char *description,
		     const unsigned char *data, size_t len, const char *name, unsigned int depth,
		     int top, int *need_all_r, struct sniff_verdict *v);

struct walk {
	struct sniff *s;
	unsigned int depth;
	int office;	      /* an OOXML or OpenDocument container */
	const char *name;     /* of the archive, for single compressed files */
	struct sniff_verdict *v;
};

static int
ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int
walk_entry(void *ctx, const struct arclist_entry *e)
{
	struct walk *w = ctx;
	struct sniff_verdict inner;
	char inner_name[256];

	if (e->is_dir)
		return ARCLIST_NEXT;
	if (w->office) {
		if (ends_with_ci(e->path, "vbaProject.bin"))
			flag(w->v, SNIFF_MACROS, "macros: Office document with a VBA project (%s)",
			     e->path);
		else if (str_starts_with(e->path, "Basic/") || str_starts_with(e->path, "Scripts/"))
			flag(w->v, SNIFF_MACROS, "macros: OpenDocument with macros (%s)", e->path);
		/* Only embedded objects are files of their own. */
		if (strstr(e->path, "embeddings/") == NULL && strstr(e->path, "Object") == NULL)
			return ARCLIST_NEXT;
	}
	if (e->encrypted) {
		flag(w->v, SNIFF_ARCHIVE, "archive: encrypted entry %s cannot be checked", e->path);
		return ARCLIST_NEXT;
	}
	if (strcmp(e->path, "data") == 0 && w->name != NULL) {
		/* A single compressed file: named as the archive without .gz */
		copy_str(inner_name, sizeof(inner_name), w->name);
		char *dot = strrchr(inner_name, '.');
		if (dot != NULL)
			*dot = '\0';
	} else {
		copy_str(inner_name, sizeof(inner_name), e->path);
	}
	memset(&inner, 0, sizeof(inner));
	int need_all = 0;
	classify(w->s, NULL, NULL, e->data, e->data_len, inner_name, w->depth + 1, 0,
		 e->complete ? NULL : &need_all, &inner);
	if (need_all)
		return ARCLIST_ALL; /* an archive inside: read it whole */
	if (inner.kind != SNIFF_OK && inner.kind != SNIFF_MISMATCH)
		flag(w->v, SNIFF_ARCHIVE, "archive holds %s (%s)", inner_name, inner.reason);
	return ARCLIST_NEXT;
}

static void
look_into(struct sniff *s, const unsigned char *data, size_t len, const char *name,
	  unsigned int depth, int office, int raw, struct sniff_verdict *v)
{
	struct arclist_limits lim = {
		s->limits.max_entries, 64 * 1024, s->limits.max_entry_bytes,
		s->limits.max_archive_bytes,
	};
	struct walk w = { s, depth, office, name, v };
	const char *error = NULL;

	if (depth >= s->limits.max_depth) {
		flag(v, SNIFF_ARCHIVE, "archive nested more than %zu deep: not looked into",
		     s->limits.max_depth);
		return;
	}
	if (arclist_walk(data, len, raw, &lim, walk_entry, &w, &error) < 0)
		flag(v, SNIFF_ARCHIVE, "archive cannot be checked: %s", error);
}

/* libmagic's answer for data[0..len) with flags (MAGIC_MIME_TYPE: the MIME
   type, MAGIC_NONE: the description); valid until the next call. */
static const char *
magic_ask(struct sniff *s, int flags, const unsigned char *data, size_t len)
{
	if (s->flags != flags) {
		if (magic_setflags(s->magic, flags | MAGIC_ERROR) < 0)
			return NULL;
		s->flags = flags;
	}
	return magic_buffer(s->magic, data, len);
}

/* libmagic's description of data[0..len), in buf. */
static const char *
describe(struct sniff *s, const unsigned char *data, size_t len, char *buf, size_t size)
{
	const char *t = magic_ask(s, MAGIC_NONE, data, len);
	copy_str(buf, size, t != NULL ? t : "data");
	return buf;
}

static int
has_vba_project(const unsigned char *data, size_t len)
{
	static const char name[] = "_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	return memmem(data, len, name, sizeof(name) - 1) != NULL;
}

/* The verdict on data as a file called name (maybe ""), depth archives
   deep; top: the attachment itself (the type and the mismatch are its).
   need_all_r: data is only the head of an archive entry; set to 1 (and
   nothing else done) when the whole entry is needed: it is an archive. */
static void
classify(struct sniff *s, const char *mime_type, const char *description,
	 const unsigned char *data, size_t len, const char *name, unsigned int depth, int top,
	 int *need_all_r, struct sniff_verdict *v)
{
	size_t mlen = len < s->limits.max_magic_bytes ? len : s->limits.max_magic_bytes;
	/* mime_type: libmagic's answer the caller already has (one pass, not two) */
	const char *t = mime_type != NULL ? mime_type : magic_ask(s, MAGIC_MIME_TYPE, data, mlen);
	char type[96], descbuf[200], ext[16];
	/* The description costs a second pass of libmagic: it is asked only
	   for a reason to give, or where the MIME type says too little
	   (description: the caller has it already). */
	const char *desc = NULL;
	if (description != NULL) {
		copy_str(descbuf, sizeof(descbuf), description);
		desc = descbuf;
	}
#define DESC() (desc != NULL ? desc : (desc = describe(s, data, mlen, descbuf, sizeof(descbuf))))

	copy_str(type, sizeof(type), t != NULL ? t : "application/octet-stream");
	if (top)
		copy_str(v->type, sizeof(v->type), type);
	extension(name != NULL ? name : "", ext, sizeof(ext));
	int unknown = strcmp(type, "application/octet-stream") == 0;
	int vhdx = len >= 8 && memcmp(data, "vhdxfile", 8) == 0;

	if (IN(type, exec_types) ||
	    (unknown && (str_starts_with(DESC(), "PE32") || str_starts_with(DESC(), "ELF ") ||
			 str_starts_with(DESC(), "Mach-O") ||
			 str_starts_with(DESC(), "MS-DOS executable"))))
		flag(v, SNIFF_EXECUTABLE, "executable: %s", DESC());
	else if (IN(type, script_types))
		flag(v, SNIFF_SCRIPT, "script: %s", DESC());
	else if (IN(type, shortcut_types))
		flag(v, SNIFF_SHORTCUT, "shortcut: %s", DESC());
	else if (IN(type, image_types) || vhdx ||
		 /* Raw disk and file-system images are whole sectors. */
		 (unknown && len % 512 == 0 &&
		  (strstr(DESC(), "boot sector") != NULL || strstr(DESC(), "filesystem data") != NULL ||
		   strstr(DESC(), "Disk Image") != NULL)))
		flag(v, SNIFF_DISK_IMAGE, "disk image: %s", vhdx ? "VHDX disk image" : DESC());
	else if (IN(type, ole_types) && has_vba_project(data, len))
		flag(v, SNIFF_MACROS, "macros: %s with a VBA project", DESC());
	else if (IN(type, html_types))
		flag(v, SNIFF_HTML, "HTML: %s", DESC());
	else if (IN(type, archive_types) ||
		 str_starts_with(type, "application/vnd.openxmlformats-officedocument") ||
		 str_starts_with(type, "application/vnd.oasis.opendocument") ||
		 str_starts_with(type, "application/vnd.ms-word") ||
		 str_starts_with(type, "application/vnd.ms-excel.") ||
		 str_starts_with(type, "application/vnd.ms-powerpoint.")) {
		int office = !IN(type, archive_types) || strcmp(ext, "docx") == 0 ||
			     strcmp(ext, "xlsx") == 0 || strcmp(ext, "pptx") == 0 ||
			     strcmp(ext, "docm") == 0 || strcmp(ext, "xlsm") == 0 ||
			     strcmp(ext, "odt") == 0 || strcmp(ext, "ods") == 0;
		if (need_all_r != NULL && depth < s->limits.max_depth) {
			*need_all_r = 1;
			return;
		}
		look_into(s, data, len, name, depth, office, IN(type, compressed_types), v);
	}

	for (size_t i = 0; i < N_ELEMENTS(danger_ext) && ext[0] != '\0'; i++)
		if (strcmp(ext, danger_ext[i].ext) == 0)
			flag(v, danger_ext[i].kind, "%s: named %s (%s)", kind_names[danger_ext[i].kind],
			     name, DESC());

	if (!top)
		return;
	if (v->kind == SNIFF_OK) {
		for (size_t i = 0; i < N_ELEMENTS(expected_types) && ext[0] != '\0'; i++) {
			if (strcmp(ext, expected_types[i].ext) != 0)
				continue;
			int ok = len == 0;
			char prefixes[128];
			copy_str(prefixes, sizeof(prefixes), expected_types[i].types);
			for (char *p = prefixes, *sp; p != NULL && !ok; p = sp) {
				sp = strchr(p, ' ');
				if (sp != NULL)
					*sp++ = '\0';
				ok = str_case_starts_with(type, p);
			}
			if (!ok)
				flag(v, SNIFF_MISMATCH, "type mismatch: named %s but the bytes are %s",
				     name, DESC());
		}
	}
	if (v->kind == SNIFF_OK) {
		copy_str(v->reason, sizeof(v->reason), type);
	} else if (name != NULL && name[0] != '\0' && strstr(v->reason, name) == NULL) {
		size_t n = strlen(v->reason);
		snprintf(v->reason + n, sizeof(v->reason) - n, " (named %s)", name);
	}
#undef DESC
}

/* The types most attachments are (screenshots, photos, statements), known
   by their first bytes: such a file, with no name or a name of that type,
   gets the verdict libmagic would give (that type, nothing to flag)
   without the ~250 us libmagic spends on any file. Anything else, and any
   name that says otherwise ("photo.png.exe", "scan.docx" that is a PNG),
   takes the whole path. Hand-written: five fixed signatures. */
static const struct {
	const char *magic;
	size_t magic_len;
	size_t at; /* offset of magic */
	const char *type;
	const char *exts; /* space separated */
} plain_types[] = {
	{ "\x89PNG\r\n\x1a\n", 8, 0, "image/png", "png" },
	{ "\xff\xd8\xff", 3, 0, "image/jpeg", "jpg jpeg jpe jfif" },
	{ "GIF87a", 6, 0, "image/gif", "gif" },
	{ "GIF89a", 6, 0, "image/gif", "gif" },
	{ "WEBP", 4, 8, "image/webp", "webp" },
};

/* Whether ext is one of the space-separated exts. */
static int
in_exts(const char *exts, const char *ext)
{
	size_t el = strlen(ext);
	for (const char *p = exts; *p != '\0'; p += strcspn(p, " "), p += *p == ' ')
		if (strcspn(p, " ") == el && strncmp(p, ext, el) == 0)
			return 1;
	return 0;
}

static int
plain_type(const unsigned char *data, size_t len, const char *filename,
	   struct sniff_verdict *v)
{
	char ext[16];
	extension(filename != NULL ? filename : "", ext, sizeof(ext));
	for (size_t i = 0; i < N_ELEMENTS(plain_types); i++) {
		size_t at = plain_types[i].at, ml = plain_types[i].magic_len;
		if (len < at + ml + 16 || memcmp(data + at, plain_types[i].magic, ml) != 0 ||
		    (at == 8 && memcmp(data, "RIFF", 4) != 0))
			continue;
		if (ext[0] != '\0' && !in_exts(plain_types[i].exts, ext))
			return 0;
		copy_str(v->type, sizeof(v->type), plain_types[i].type);
		copy_str(v->reason, sizeof(v->reason), plain_types[i].type);
		return 1;
	}
	return 0;
}

/* Whether libmagic will most likely find data not to be what its name
   says, so that its description will be needed for the mismatch's reason:
   an image name (the names plain_type() knows) on bytes with none of
   plain_types' signatures, a .pdf name on bytes without "%PDF-" in their
   first KiB. Only the order of the two questions to libmagic depends on
   it (and with it their number, one or two), never the verdict. */
static int
expect_mismatch(const unsigned char *data, size_t len, const char *filename)
{
	char ext[16];
	extension(filename != NULL ? filename : "", ext, sizeof(ext));
	if (strcmp(ext, "pdf") == 0)
		return memmem(data, len < 1024 ? len : 1024, "%PDF-", 5) == NULL;
	int image = 0;
	for (size_t i = 0; i < N_ELEMENTS(plain_types) && !image && ext[0] != '\0'; i++)
		image = in_exts(plain_types[i].exts, ext);
	if (!image)
		return 0;
	for (size_t i = 0; i < N_ELEMENTS(plain_types); i++) {
		size_t at = plain_types[i].at, ml = plain_types[i].magic_len;
		if (len >= at + ml && memcmp(data + at, plain_types[i].magic, ml) == 0)
			return 0;
	}
	return 1;
}

int
sniff_bytes(struct sniff *s, const unsigned char *data, size_t len, const char *filename,
	    struct sniff_verdict *verdict_r, const char **error_r)
{
	memset(verdict_r, 0, sizeof(*verdict_r));
	if (plain_type(data, len, filename, verdict_r))
		return 0;
	size_t mlen = len < s->limits.max_magic_bytes ? len : s->limits.max_magic_bytes;
	const char *t = NULL;
	char descbuf[200];
	const char *desc = NULL;
	if (expect_mismatch(data, len, filename)) {
		/* Both answers will be needed (the type, and the description
		   for the mismatch's reason): ask the description first. */
		const char *d = magic_ask(s, MAGIC_NONE, data, mlen);
		if (d != NULL && strcmp(d, "data") == 0) {
			/* libmagic found nothing: its MIME type would be
			   application/octet-stream. No entry of Debian's magic
			   database has a MIME type without a description (`file -l`
			   lists none), and tests/bench/sniff-compare.sh checks the
			   inference over the corpora and random data. */
			t = "application/octet-stream";
			desc = "data";
		} else if (d != NULL) {
			copy_str(descbuf, sizeof(descbuf), d);
			desc = descbuf;
		}
	}
	if (t == NULL)
		t = magic_ask(s, MAGIC_MIME_TYPE, data, mlen);
	if (t == NULL) {
		*error_r = errf("libmagic: %s",
				magic_error(s->magic) != NULL ? magic_error(s->magic) : "failed");
		return -1;
	}
	classify(s, t, desc, data, len, filename != NULL ? filename : "", 0, 1, NULL, verdict_r);
	return 0;
}
