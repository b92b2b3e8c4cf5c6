/*
 * Model files (layer 4): safetensors, and the veil model file built on it
 * (docs/formats/model.md).
 *
 * safetensors (Hugging Face's tensor format) is 8 bytes of little-endian
 * header length N, N bytes of JSON naming each tensor's dtype, shape and
 * byte range, then the tensors' bytes. veil writes and reads float32
 * tensors only; the reader is a parser of hostile input (a model file is
 * decrypted inside the worker, but whoever trained it may not be whoever
 * serves it): every count is bounded, every byte range checked to tile the
 * data exactly, every size computed with overflow checks. It reads the
 * header with its own bounded JSON reader (src/learn/learn_json.c), not
 * jansson, because veil-worker must not link jansson.
 *
 * A veil model file is a safetensors file whose tensors are the model's
 * layers as PyTorch's nn.Linear stores them, layers.<i>.weight [out, in]
 * (the transpose of veil's in×out matrix) and layers.<i>.bias [out], and
 * whose __metadata__ holds "format": "veil-model", "format_version": "1"
 * and "veil.manifest": the manifest, a JSON text that describes the model
 * (architecture, features, labels, metrics, privacy, data sets, job,
 * worker measurement). Once decrypted it loads in Python with
 * safetensors.numpy.load_file or safetensors.torch.load_file.
 */
#ifndef VEIL_LEARN_MODEL_H
#define VEIL_LEARN_MODEL_H

#include "veil/learn.h"
#include "veil/learn_metrics.h"

/* ---- safetensors ---- */

#define VEIL_ST_HEADER_MAX  100000000u /* bytes of header JSON: the format's own limit */
#define VEIL_ST_TENSORS_MAX 4096u      /* tensors in one file */
#define VEIL_ST_RANK_MAX    8u         /* dimensions of one tensor (0 is a scalar) */
#define VEIL_ST_NAME_MAX    512u       /* bytes of a tensor name or a metadata key */
#define VEIL_ST_META_MAX    256u       /* __metadata__ entries */

/* A tensor of a parsed file. Only float32 tensors are ever returned. */
typedef struct veil_st_tensor {
	char *name; /* UTF-8, no NUL inside */
	size_t rank;
	uint64_t shape[VEIL_ST_RANK_MAX];
	size_t count;        /* elements: the product of shape (1 for rank 0, 0 for an empty tensor) */
	uint64_t begin, end; /* data_offsets, relative to the data buffer */
	const uint8_t *data; /* count × 4 bytes of little-endian float32, inside the parsed input */
} veil_st_tensor;

typedef struct veil_st_meta {
	char *key, *value; /* UTF-8, no NUL inside */
	size_t value_len;
} veil_st_meta;

typedef struct veil_st_file {
	veil_st_tensor *tensors; /* in data order (by data_offsets) */
	size_t n_tensors;
	veil_st_meta *meta; /* in header order */
	size_t n_meta;
	bool has_meta;       /* the header has a __metadata__ member (perhaps empty) */
	uint64_t header_len; /* N */
	size_t data_len;     /* bytes of the data buffer: the input's length - 8 - N */
} veil_st_file;

/* Parses a whole safetensors file. The tensors' data pointers point into
 * buf, which must outlive the result. Refusals (docs/formats/model.md
 * section 2): VEIL_E_INVALID for anything malformed, VEIL_E_LIMIT for a
 * bound above, VEIL_E_UNSUPPORTED for a well-formed file holding a tensor
 * of another dtype (I64, F16, ...). On error *out is zeroed. Free with
 * veil_st_free. */
veil_status veil_st_parse(const uint8_t *buf, size_t len, veil_st_file *out, veil_err *err) VEIL_MUST_CHECK;
void veil_st_free(veil_st_file *f); /* NULL ok; leaves f zeroed */
/* The tensor or metadata value of that name; NULL when absent. */
const veil_st_tensor *veil_st_find(const veil_st_file *f, const char *name);
const char *veil_st_meta_get(const veil_st_file *f, const char *key);
/* Element i (< t->count) of a parsed tensor, in host representation. */
float veil_st_f32(const veil_st_tensor *t, size_t i);

/* A tensor to write: float32 in host memory. With transpose, data is the
 * row-major shape[1] × shape[0] matrix and is written as its transpose,
 * shape[0] × shape[1] (rank 2 only): how veil's in×out weights become
 * PyTorch's [out, in] without a copy. */
typedef struct veil_st_entry {
	const char *name;
	size_t rank;
	size_t shape[VEIL_ST_RANK_MAX];
	const float *data;
	bool transpose;
} veil_st_entry;

typedef struct veil_st_kv {
	const char *key, *value;
} veil_st_kv;

/* Appends a safetensors file to out: the tensors in the order given, each
 * right after the previous one, and the metadata entries in the order
 * given (no __metadata__ member when n_meta is 0). The header is compact
 * JSON, __metadata__ first, padded with spaces to a multiple of 8 bytes,
 * as Hugging Face's serializer writes it. Names must be distinct UTF-8,
 * not "__metadata__", within the bounds above. On error out->len is what
 * it was. */
veil_status veil_st_write(const veil_st_entry *tensors, size_t n, const veil_st_kv *meta, size_t n_meta,
                          veil_buf *out, veil_err *err) VEIL_MUST_CHECK;

/* ---- veil model files ---- */

#define VEIL_MODELFILE_FORMAT       "veil-model"
#define VEIL_MODELFILE_VERSION      "1"
#define VEIL_MODELFILE_MANIFEST_MAX (16u << 20) /* bytes of manifest JSON */

/* One data set a model was trained on, as the manifest records it. */
typedef struct veil_manifest_dataset {
	const char *name;
	uint64_t version;
	const char *sha256;         /* 64 lowercase hex digits: the version's content hash */
	const char *const *lineage; /* how the version was made, oldest step first ("patients@1", ...) */
	size_t n_lineage;
} veil_manifest_dataset;

/* DP-SGD's guarantee and the figures it was computed from. */
typedef struct veil_manifest_privacy {
	double epsilon, delta;
	double noise_multiplier; /* σ */
	double max_grad_norm;    /* C */
	double sample_rate;      /* q */
	uint64_t steps;
	const double *orders; /* the RDP orders the accountant used (∞ is written as null) */
	size_t n_orders;
} veil_manifest_privacy;

/* What the manifest says beside the architecture, which it takes from the
 * model. Pointers may be NULL where marked. */
typedef struct veil_manifest {
	const char *const *features; /* n_features names, one per input, in column order */
	size_t n_features;
	const char *label;               /* the label column's name */
	const char *const *class_labels; /* n_classes strings: class i's value in the data */
	size_t n_classes;
	const veil_metrics *metrics; /* NULL: none ("metrics": null) */
	const char *metrics_split;   /* what the metrics were measured on ("test"); NULL with metrics NULL */
	const veil_manifest_privacy *privacy; /* NULL: trained without differential privacy */
	const veil_manifest_dataset *datasets;
	size_t n_datasets;
	const char *job_name;
	const char *job_sha256;  /* 64 lowercase hex digits: SHA-256 of the job file */
	const char *measurement; /* the worker's measurement in lowercase hex; NULL: none (simulated TEE) */
	int64_t created;         /* seconds since the epoch; 0 leaves "created" out, so that the same
	                          * job on the same data gives a byte-identical file */
	const char *veil_version;
} veil_manifest;

/* Writes the manifest JSON of model m to out (appended; compact, members in
 * the order docs/formats/model.md gives). Counts must agree with the model
 * (n_features with its inputs, n_classes with its classes); hashes must be
 * 64 lowercase hex digits. On error out->len is what it was. */
veil_status veil_modelfile_manifest(const veil_model *m, const veil_manifest *info, veil_buf *out,
                                    veil_err *err) VEIL_MUST_CHECK;
/* Reads the "architecture" member of a manifest into a spec (other members
 * are checked to be JSON and skipped) and checks the spec with
 * veil_model_spec_check. On error *spec is zeroed. */
veil_status veil_modelfile_manifest_spec(const char *manifest, size_t len, veil_model_spec *spec,
                                         veil_err *err) VEIL_MUST_CHECK;
/* What evaluating a model on new data needs of its manifest: which
 * columns, in what order, are its inputs, and which values of which
 * column are its classes (docs/formats/model.md section 4). */
typedef struct veil_manifest_columns {
	veil_model_spec spec;
	char **features; /* n_features == spec.inputs names, in input order */
	size_t n_features;
	char *label;    /* the label column's name */
	char **classes; /* n_classes == spec.classes distinct labels: class i's value in the data */
	size_t n_classes;
} veil_manifest_columns;
/* Reads the architecture, "features" and "label" of a manifest (other
 * members are checked to be JSON and skipped), with the bounds of
 * veil/learn_data.h on every name. On error *out is zeroed. Free with
 * veil_manifest_columns_free. */
veil_status veil_modelfile_manifest_columns(const char *manifest, size_t len, veil_manifest_columns *out,
                                            veil_err *err) VEIL_MUST_CHECK;
void veil_manifest_columns_free(veil_manifest_columns *c); /* NULL ok; leaves c zeroed */
/* Appends the model file of m with this manifest (any JSON text whose
 * architecture matches m exactly, as veil_modelfile_manifest writes) to
 * out. A non-finite parameter is refused (VEIL_E_DIVERGED). On error
 * out->len is what it was. */
veil_status veil_modelfile_write(const veil_model *m, const char *manifest_json, veil_buf *out,
                                 veil_err *err) VEIL_MUST_CHECK;
/* Reads a model file: checks it is a veil model file of a version this
 * code reads, builds the model its manifest's architecture describes, and
 * requires exactly that model's tensors, of exactly its shapes, with finite
 * values. *out receives the model (free with veil_model_free) and
 * *manifest_json a NUL-terminated copy of the manifest (free with free());
 * the host parses it (the CLI with jansson). On error both are NULL.
 * Another format or a tensor the architecture does not have: VEIL_E_INVALID;
 * another format_version: VEIL_E_UNSUPPORTED. */
veil_status veil_modelfile_read(const uint8_t *buf, size_t len, veil_model **out, char **manifest_json,
                                veil_err *err) VEIL_MUST_CHECK;

#endif
