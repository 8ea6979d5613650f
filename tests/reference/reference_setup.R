# The shared start of the make_reference_<topic>.R scripts (run from the
# repository root): lavaan and jsonlite, the function definitions of
# make_reference.R (case_json, read_data, ...; nothing else of it runs), and
# output_dir(name) for the folder a script writes its JSON into.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

REF_DIR <- normalizePath(file.path("tests", "reference"))
for (e in parse(file.path(REF_DIR, "make_reference.R"))) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.call(e[[3]]) &&
      identical(e[[3]][[1]], as.name("function"))) eval(e)
}
DATA_DIR <- file.path(REF_DIR, "data")
LAVAAN_VERSION <- as.character(packageVersion("lavaan"))

output_dir <- function(name) {
  dir <- file.path(REF_DIR, name)
  dir.create(dir, showWarnings = FALSE)
  dir
}
