# lavaan side of benchmarks/run.py: prints one line of JSON.
#
#   Rscript benchmarks/lavaan_bench.R fits SPEC DATA.csv REPS
#       per-rep elapsed seconds of sem(cluster="therapist", estimator="MLR")
#       and of plain ML sem(), after one warm-up fit of each
#   Rscript benchmarks/lavaan_bench.R bootstrap SPEC DATA.csv DRAWS
#       one sem(se="bootstrap", bootstrap=DRAWS) (run.py times the whole process).
#       lavaan 0.6 cannot resample clusters: this is an ordinary case bootstrap.
#
# Comments are stripped from the spec: lavaan 0.6-14 reads "# diagram: ..." as a
# block identifier.

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
model <- paste(sub("#.*$", "", readLines(args[2])), collapse = "\n")
data <- read.csv(args[3])
n <- as.integer(args[4])

elapsed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - t0
}
reps <- function(f, n) {
  f()  # warm-up
  vapply(seq_len(n), function(i) elapsed(f()), numeric(1))
}
peak_mb <- function() {
  line <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", line)) / 1024
}
arr <- function(x) paste0("[", paste(sprintf("%.6f", x), collapse = ","), "]")

out <- c(sprintf('"R": "%s.%s"', R.version$major, R.version$minor),
         sprintf('"lavaan": "%s"', packageVersion("lavaan")),
         sprintf('"blas": "%s"', basename(extSoftVersion()[["BLAS"]])))
if (mode == "fits") {
  mlr <- reps(function() sem(model, data, cluster = "therapist", estimator = "MLR"), n)
  ml <- reps(function() sem(model, data), n)
  out <- c(out, sprintf('"mlr_cluster": %s', arr(mlr)), sprintf('"ml": %s', arr(ml)))
} else if (mode == "bootstrap") {
  set.seed(1)
  t <- elapsed(sem(model, data, se = "bootstrap", bootstrap = n))
  out <- c(out, sprintf('"bootstrap": %s', arr(t)))
} else {
  stop("mode must be fits or bootstrap")
}
out <- c(out, sprintf('"peak_rss_mb": %.1f', peak_mb()))
cat("{", paste(out, collapse = ", "), "}\n", sep = "")
