/* Printing what inspection found: text, virt-inspector's XML, JSON. */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "inspect-nbd.h"
#include "json.h"

static void
xml_escape (FILE *fp, const char *s)
{
  for (; *s; ++s) {
    switch (*s) {
    case '<': fputs ("&lt;", fp); break;
    case '>': fputs ("&gt;", fp); break;
    case '&': fputs ("&amp;", fp); break;
    case '"': fputs ("&quot;", fp); break;
    default: fputc (*s, fp);
    }
  }
}

static void
xml_elem (FILE *fp, int indent, const char *name, const char *value)
{
  if (value == NULL || *value == '\0')
    return;
  fprintf (fp, "%*s<%s>", indent, "", name);
  xml_escape (fp, value);
  fprintf (fp, "</%s>\n", name);
}

/* An application's fields in virt-inspector's order; empty ones are
 * left out.  epoch is a buffer for the number.
 */
#define APP_MAX_FIELDS 11
static size_t
app_fields (const struct guestfs_application2 *a, char *epoch, size_t len,
            const char *tags[APP_MAX_FIELDS], const char *vals[APP_MAX_FIELDS])
{
  const char *t[APP_MAX_FIELDS] = {
    "name", "display_name", "epoch", "version", "release", "arch",
    "install_path", "publisher", "url", "summary", "description"
  };
  const char *v[APP_MAX_FIELDS] = {
    a->app2_name, a->app2_display_name, NULL, a->app2_version,
    a->app2_release, a->app2_arch, a->app2_install_path, a->app2_publisher,
    a->app2_url, a->app2_summary, a->app2_description
  };
  size_t i, n = 0;

  if (a->app2_epoch != 0) {
    snprintf (epoch, len, "%d", a->app2_epoch);
    v[2] = epoch;
  }
  for (i = 0; i < APP_MAX_FIELDS; ++i)
    if (v[i] && *v[i]) {
      tags[n] = t[i];
      vals[n++] = v[i];
    }
  return n;
}

void
output_xml (FILE *fp, const struct os_info *oses, int n)
{
  int i;
  size_t j;
  char num[32];

  fprintf (fp, "<?xml version=\"1.0\"?>\n<operatingsystems>\n");
  for (i = 0; i < n; ++i) {
    const struct os_info *os = &oses[i];

    fprintf (fp, "  <operatingsystem>\n");
    xml_elem (fp, 4, "root", os->root);
    xml_elem (fp, 4, "name", os->type);
    xml_elem (fp, 4, "arch", os->arch);
    xml_elem (fp, 4, "distro", os->distro);
    xml_elem (fp, 4, "product_name", os->product_name);
    xml_elem (fp, 4, "product_variant", os->product_variant);
    snprintf (num, sizeof num, "%d", os->major);
    xml_elem (fp, 4, "major_version", num);
    snprintf (num, sizeof num, "%d", os->minor);
    xml_elem (fp, 4, "minor_version", num);
    xml_elem (fp, 4, "package_format", os->package_format);
    xml_elem (fp, 4, "package_management", os->package_management);
    xml_elem (fp, 4, "hostname", os->hostname);
    xml_elem (fp, 4, "osinfo", os->osinfo);

    fprintf (fp, "    <mountpoints>\n");
    for (j = 0; os->mountpoints && os->mountpoints[j]; j += 2) {
      fprintf (fp, "      <mountpoint dev=\"");
      xml_escape (fp, os->mountpoints[j + 1]);
      fprintf (fp, "\">");
      xml_escape (fp, os->mountpoints[j]);
      fprintf (fp, "</mountpoint>\n");
    }
    fprintf (fp, "    </mountpoints>\n");

    fprintf (fp, "    <filesystems>\n");
    for (j = 0; j < os->nfs; ++j) {
      fprintf (fp, "      <filesystem dev=\"");
      xml_escape (fp, os->fs[j].device);
      fprintf (fp, "\">\n");
      xml_elem (fp, 8, "type", os->fs[j].type);
      xml_elem (fp, 8, "label", os->fs[j].label);
      xml_elem (fp, 8, "uuid", os->fs[j].uuid);
      fprintf (fp, "      </filesystem>\n");
    }
    fprintf (fp, "    </filesystems>\n");

    if (os->apps) {
      fprintf (fp, "    <applications>\n");
      for (j = 0; j < os->apps->len; ++j) {
        const struct guestfs_application2 *a = &os->apps->val[j];
        const char *tags[APP_MAX_FIELDS], *vals[APP_MAX_FIELDS];
        size_t k, nf = app_fields (a, num, sizeof num, tags, vals);

        fprintf (fp, "      <application>\n");
        for (k = 0; k < nf; ++k)
          xml_elem (fp, 8, tags[k], vals[k]);
        fprintf (fp, "      </application>\n");
      }
      fprintf (fp, "    </applications>\n");
    }
    fprintf (fp, "  </operatingsystem>\n");
  }
  fprintf (fp, "</operatingsystems>\n");
}

static void
json_field (FILE *fp, const char *indent, bool *first, const char *key,
            const char *value)
{
  if (value == NULL || *value == '\0')
    return;
  fprintf (fp, "%s\n%s", *first ? "" : ",", indent);
  *first = false;
  json_write_string (fp, key);
  fputs (": ", fp);
  if (strcmp (key, "epoch") == 0)
    fputs (value, fp);          /* a number */
  else
    json_write_string (fp, value);
}

void
output_json (FILE *fp, const struct os_info *oses, int n)
{
  int i;
  size_t j, k;
  char num[32];

  fprintf (fp, "{\n  \"operatingsystems\": [");
  for (i = 0; i < n; ++i) {
    const struct os_info *os = &oses[i];
    bool first = true;

    fprintf (fp, "%s\n    {", i ? "," : "");
    json_field (fp, "      ", &first, "root", os->root);
    json_field (fp, "      ", &first, "name", os->type);
    json_field (fp, "      ", &first, "arch", os->arch);
    json_field (fp, "      ", &first, "distro", os->distro);
    json_field (fp, "      ", &first, "product_name", os->product_name);
    json_field (fp, "      ", &first, "product_variant", os->product_variant);
    fprintf (fp, ",\n      \"major_version\": %d,\n"
             "      \"minor_version\": %d", os->major, os->minor);
    json_field (fp, "      ", &first, "package_format", os->package_format);
    json_field (fp, "      ", &first, "package_management",
                os->package_management);
    json_field (fp, "      ", &first, "hostname", os->hostname);
    json_field (fp, "      ", &first, "osinfo", os->osinfo);

    fprintf (fp, ",\n      \"mountpoints\": {");
    for (j = 0; os->mountpoints && os->mountpoints[j]; j += 2) {
      fprintf (fp, "%s\n        ", j ? "," : "");
      json_write_string (fp, os->mountpoints[j]);
      fputs (": ", fp);
      json_write_string (fp, os->mountpoints[j + 1]);
    }
    fprintf (fp, "\n      },\n      \"filesystems\": [");
    for (j = 0; j < os->nfs; ++j) {
      bool f1 = true;
      fprintf (fp, "%s\n        {", j ? "," : "");
      json_field (fp, "          ", &f1, "device", os->fs[j].device);
      json_field (fp, "          ", &f1, "type", os->fs[j].type);
      json_field (fp, "          ", &f1, "label", os->fs[j].label);
      json_field (fp, "          ", &f1, "uuid", os->fs[j].uuid);
      fprintf (fp, "\n        }");
    }
    fprintf (fp, "\n      ],\n      \"applications\": [");
    for (j = 0; os->apps && j < os->apps->len; ++j) {
      const char *tags[APP_MAX_FIELDS], *vals[APP_MAX_FIELDS];
      size_t nf = app_fields (&os->apps->val[j], num, sizeof num, tags, vals);
      bool f1 = true;

      fprintf (fp, "%s\n        {", j ? "," : "");
      for (k = 0; k < nf; ++k)
        json_field (fp, "          ", &f1, tags[k], vals[k]);
      fprintf (fp, "\n        }");
    }
    fprintf (fp, "\n      ]\n    }");
  }
  fprintf (fp, "\n  ]\n}\n");
}

static void
text_field (FILE *fp, const char *key, const char *value)
{
  if (value && *value)
    fprintf (fp, "%-20s %s\n", key, value);
}

void
output_text (FILE *fp, const struct os_info *oses, int n)
{
  int i;
  size_t j;
  char num[64];

  for (i = 0; i < n; ++i) {
    const struct os_info *os = &oses[i];

    if (i)
      fputc ('\n', fp);
    text_field (fp, "root:", os->root);
    text_field (fp, "type:", os->type);
    text_field (fp, "distro:", os->distro);
    snprintf (num, sizeof num, "%d.%d", os->major, os->minor);
    text_field (fp, "version:", num);
    text_field (fp, "product name:", os->product_name);
    text_field (fp, "product variant:", os->product_variant);
    text_field (fp, "hostname:", os->hostname);
    text_field (fp, "arch:", os->arch);
    text_field (fp, "package format:", os->package_format);
    text_field (fp, "package management:", os->package_management);
    text_field (fp, "osinfo:", os->osinfo);
    for (j = 0; os->mountpoints && os->mountpoints[j]; j += 2)
      fprintf (fp, "%-20s %s on %s\n", "mountpoint:",
               os->mountpoints[j + 1], os->mountpoints[j]);
    for (j = 0; j < os->nfs; ++j)
      fprintf (fp, "%-20s %s %s%s%s\n", "filesystem:", os->fs[j].device,
               os->fs[j].type && *os->fs[j].type ? os->fs[j].type : "-",
               os->fs[j].uuid && *os->fs[j].uuid ? " uuid=" : "",
               os->fs[j].uuid ? os->fs[j].uuid : "");
    for (j = 0; os->apps && j < os->apps->len; ++j) {
      const struct guestfs_application2 *a = &os->apps->val[j];
      fprintf (fp, "%-20s %s", "application:", a->app2_name);
      if (a->app2_epoch)
        fprintf (fp, " %d:", a->app2_epoch);
      else
        fputc (' ', fp);
      fprintf (fp, "%s%s%s\n", a->app2_version,
               a->app2_release && *a->app2_release ? "-" : "",
               a->app2_release ? a->app2_release : "");
    }
  }
}
