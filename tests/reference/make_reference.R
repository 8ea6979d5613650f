# make_reference.R -- regenerate the lavaan reference fixtures for attachpath.
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference.R
#
# Writes
#   tests/reference/data/*.csv     data sets (PoliticalDemocracy, Holzinger,
#                                  two simulated psychotherapy client sets)
#   tests/reference/cases/*.json   one JSON file per fitted case / LRT / bootstrap
#
# Requirements: R, lavaan (fixtures were produced with 0.6-14), jsonlite.
# Deterministic: every random step uses an explicit set.seed().
#
# Every model is fitted on the data *as read back from the CSV file*, so R and
# Python see bit-identical input values.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

## ---------------------------------------------------------------------------
## locations
## ---------------------------------------------------------------------------
find_ref_dir <- function() {
  if (dir.exists(file.path("tests", "reference"))) {
    return(normalizePath(file.path("tests", "reference")))
  }
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grepl("^--file=", args)])
  if (length(f) == 1L) return(normalizePath(dirname(f)))
  stop("run from the repository root: Rscript tests/reference/make_reference.R")
}
REF_DIR  <- find_ref_dir()
DATA_DIR <- file.path(REF_DIR, "data")
CASE_DIR <- file.path(REF_DIR, "cases")
dir.create(DATA_DIR, showWarnings = FALSE, recursive = TRUE)
dir.create(CASE_DIR, showWarnings = FALSE, recursive = TRUE)
LAVAAN_VERSION <- as.character(packageVersion("lavaan"))

## ---------------------------------------------------------------------------
## minimal JSON writer with round-trip numeric precision
## (jsonlite caps numbers at 15 significant digits, which does not round-trip)
## Conventions: named list -> object; unnamed list -> array;
##              atomic of length 1 -> scalar unless wrapped in I() -> array;
##              NA / NaN / Inf -> null.
## ---------------------------------------------------------------------------
num_to_json <- function(x) {
  out <- character(length(x))
  bad <- !is.finite(x)
  out[bad] <- "null"
  for (i in which(!bad)) {
    v <- x[i]
    s <- sprintf("%.15g", v)
    if (as.numeric(s) != v) s <- sprintf("%.16g", v)
    if (as.numeric(s) != v) s <- sprintf("%.17g", v)
    out[i] <- s
  }
  out
}
str_to_json <- function(x) {
  vapply(x, function(s) {
    if (is.na(s)) "null" else as.character(jsonlite::toJSON(s, auto_unbox = TRUE))
  }, character(1), USE.NAMES = FALSE)
}
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.data.frame(x)) stop("convert data frames with rows_to_list() first")
  if (is.list(x)) {
    nm <- names(x)
    if (!is.null(nm) && length(x) > 0L) {
      parts <- vapply(seq_along(x), function(i)
        paste0(str_to_json(nm[i]), ":", to_json(x[[i]])), character(1))
      return(paste0("{", paste(parts, collapse = ","), "}"))
    }
    if (length(x) == 0L && !is.null(nm)) return("{}")
    parts <- vapply(x, to_json, character(1))
    return(paste0("[", paste(parts, collapse = ","), "]"))
  }
  as_array <- inherits(x, "AsIs") || length(x) != 1L
  x <- unclass(x)
  attributes(x) <- NULL
  if (is.logical(x)) {
    el <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.integer(x)) {
    el <- ifelse(is.na(x), "null", as.character(x))
  } else if (is.numeric(x)) {
    el <- num_to_json(x)
  } else if (is.character(x)) {
    el <- str_to_json(x)
  } else {
    stop("cannot serialise class ", class(x)[1])
  }
  if (as_array) paste0("[", paste(el, collapse = ","), "]") else el
}
write_json_file <- function(obj, path) {
  txt <- to_json(obj)
  txt <- jsonlite::prettify(txt, indent = 1)
  writeLines(txt, path, useBytes = TRUE)
  invisible(path)
}

## helpers to convert R objects
named_list <- function(v) {
  v <- unclass(v)
  nm <- names(v)
  out <- lapply(seq_along(v), function(i) v[[i]])
  names(out) <- nm
  out
}
mat_to_list <- function(m) {
  if (is.null(m)) return(NULL)
  m <- unclass(as.matrix(m))
  nms <- colnames(m)
  if (is.null(nms)) nms <- character(ncol(m))
  list(names = I(nms),
       matrix = lapply(seq_len(nrow(m)), function(i) I(unname(as.numeric(m[i, ])))))
}
vec_to_list <- function(v) {
  if (is.null(v)) return(NULL)
  list(names = I(names(v)), values = I(unname(as.numeric(v))))
}
rows_to_list <- function(df) {
  lapply(seq_len(nrow(df)), function(i) {
    r <- lapply(names(df), function(k) {
      v <- df[[k]][i]
      if (is.factor(v)) v <- as.character(v)
      v
    })
    names(r) <- names(df)
    r
  })
}

## ---------------------------------------------------------------------------
## 1. data sets
## ---------------------------------------------------------------------------
write_data <- function(df, file) {
  # write.csv keeps 15 significant digits; all fits use the read-back values
  write.csv(df, file.path(DATA_DIR, file), row.names = FALSE, na = "")
}
read_data <- function(file) {
  read.csv(file.path(DATA_DIR, file), stringsAsFactors = FALSE)
}

write_data(lavaan::PoliticalDemocracy, "political_democracy.csv")
write_data(lavaan::HolzingerSwineford1939, "holzinger.csv")

# Simulated psychotherapy client data, in the shape of Jacobsen et al. (2024):
# clients nested in therapists (unbalanced caseloads), client attachment
# (ECR anxiety / avoidance), client-to-therapist attachment (CATS secure /
# preoccupied / avoidant), therapist development (TDS growing engagement /
# growing autonomy) and interpersonal problems (IIP) pre and post.
# Core causal chain: ecr_anx -> cats_secure -> tds_ge -> iip_post (| iip_pre).
# Therapist random intercepts on cats_*, tds_* and iip_post; t(6) errors.
simulate_clients <- function(seed, n_ther, n_cli, p) {
  set.seed(seed)
  # unbalanced caseloads: min 2, skewed (gamma weights, multinomial allocation)
  w <- rgamma(n_ther, shape = 0.9, rate = 1)
  sizes <- 2L + as.integer(rmultinom(1, n_cli - 2L * n_ther, prob = w))
  stopifnot(sum(sizes) == n_cli, min(sizes) >= 2L)
  therapist <- rep(seq_len(n_ther), times = sizes)
  n <- n_cli

  std <- function(x) (x - mean(x)) / sd(x)
  terr <- function() rt(n, df = 6) * sqrt(4 / 6)          # t(6), unit variance
  ther <- function(icc) rnorm(n_ther, 0, sqrt(icc))[therapist]
  # outcome = linear part + therapist intercept + t(6) error, error variance
  # chosen so the total variance is about 1; standardised afterwards
  make <- function(lin, icc) {
    ev <- max(1 - var(lin) - icc, 0.2)
    std(lin + ther(icc) + sqrt(ev) * terr())
  }

  # exogenous client attachment (ECR), r = .25
  z1 <- rnorm(n); z2 <- rnorm(n)
  anx   <- std(z1)
  avoid <- std(p$r_ecr * z1 + sqrt(1 - p$r_ecr^2) * z2)
  # pre-treatment interpersonal problems (client-level, no therapist effect)
  pre <- make(p$pre_anx * anx + p$pre_avoid * avoid, 0)

  sec   <- make(p$sec_anx * anx + p$sec_avoid * avoid, p$icc_cats)
  preoc <- make(p$preoc_anx * anx + p$preoc_sec * sec, p$icc_cats)
  cavd  <- make(p$cavd_avoid * avoid + p$cavd_sec * sec, p$icc_cats)
  ge    <- make(p$ge_sec * sec + p$ge_anx * anx, p$icc_tds)
  ga    <- make(p$ga_sec * sec + p$ga_ge * ge + p$ga_avoid * avoid, p$icc_tds)
  post  <- make(p$post_pre * pre + p$post_ge * ge + p$post_anx * anx +
                  p$post_sec * sec, p$icc_post)

  d <- data.frame(
    therapist   = therapist,
    client      = seq_len(n),
    ecr_anx     = 3.9 + 1.2 * anx,
    ecr_avoid   = 3.2 + 1.1 * avoid,
    cats_secure = 4.4 + 0.8 * sec,
    cats_preoc  = 2.4 + 0.7 * preoc,
    cats_avoid  = 2.3 + 0.8 * cavd,
    tds_ge      = 3.5 + 0.7 * ge,
    tds_ga      = 3.5 + 0.7 * ga,
    iip_pre     = 1.6 + 0.55 * pre,
    iip_post    = 1.3 + 0.55 * post
  )
  # ESAT-like score: secure attachment to therapist net of preoccupation
  d$esat_anx <- unname(residuals(lm(cats_secure ~ cats_preoc, data = d)))
  d
}

par_a <- list(r_ecr = 0.25, pre_anx = 0.30, pre_avoid = 0.10,
              sec_anx = -0.30, sec_avoid = -0.20,
              preoc_anx = 0.35, preoc_sec = -0.20,
              cavd_avoid = 0.35, cavd_sec = -0.25,
              ge_sec = 0.30, ge_anx = -0.15,
              ga_sec = 0.25, ga_ge = 0.30, ga_avoid = -0.10,
              post_pre = 0.55, post_ge = -0.25, post_anx = 0.15, post_sec = -0.05,
              icc_cats = 0.08, icc_tds = 0.12, icc_post = 0.06)
par_b <- list(r_ecr = 0.25, pre_anx = 0.25, pre_avoid = 0.15,
              sec_anx = -0.22, sec_avoid = -0.25,
              preoc_anx = 0.30, preoc_sec = -0.25,
              cavd_avoid = 0.30, cavd_sec = -0.20,
              ge_sec = 0.35, ge_anx = -0.10,
              ga_sec = 0.20, ga_ge = 0.35, ga_avoid = -0.05,
              post_pre = 0.58, post_ge = -0.20, post_anx = 0.15, post_sec = 0.00,
              icc_cats = 0.10, icc_tds = 0.15, icc_post = 0.05)

write_data(simulate_clients(20240601L, 44L, 330L, par_a), "clients_a.csv")
write_data(simulate_clients(20240602L, 30L, 240L, par_b), "clients_b.csv")

DATA <- list(
  political_democracy = read_data("political_democracy.csv"),
  holzinger           = read_data("holzinger.csv"),
  clients_a           = read_data("clients_a.csv"),
  clients_b           = read_data("clients_b.csv"),
  # attachpath's bundled example, client level (written by Python:
  # attachpath.datasets.load_example_clients()); the study's specs are fitted on it
  example_clients     = read_data("example_clients.csv")
)

## ---------------------------------------------------------------------------
## 2. models
## ---------------------------------------------------------------------------
M <- list()
M$pd <- '
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + y2 + y3 + y4
    dem65 =~ y5 + y6 + y7 + y8
  # regressions
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
'
M$pd_labels <- '
  # measurement model, loadings equal over time via shared labels
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + l2*y2 + l3*y3 + l4*y4
    dem65 =~ y5 + l2*y6 + l3*y7 + l4*y8
  # regressions
    dem60 ~ a*ind60
    dem65 ~ c*ind60 + b*dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
  # defined parameters
    ind := a*b
    total := c + a*b
'
M$hs_cfa <- 'visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9'
M$latent_na <- 'visual =~ NA*x1 + x2 + x3
visual ~~ 1*visual
textual =~ x4 + x5 + x6'
M$serial <- 'cats_secure ~ a*ecr_anx + ecr_avoid
tds_ge ~ b*cats_secure + ecr_anx
iip_post ~ c*tds_ge + iip_pre + ecr_anx
ab := a*b
abc := a*b*c'
# nested in M$serial: the two direct ecr_anx paths removed
M$serial_nodirect <- 'cats_secure ~ a*ecr_anx + ecr_avoid
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + iip_pre
ab := a*b
abc := a*b*c'
M$serial_misspec <- 'cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + iip_pre
abc := a*b*c'
M$parallel <- 'cats_secure ~ a1*ecr_anx
cats_avoid ~ a2*ecr_anx
iip_post ~ b1*cats_secure + b2*cats_avoid + iip_pre + ecr_anx
ind1 := a1*b1
ind2 := a2*b2
diff := ind1 - ind2'
# parallel model plus a path between the mediators (serial two-mediator);
# M$parallel is nested in it (d = 0)
M$serial2 <- 'cats_secure ~ a1*ecr_anx
cats_avoid ~ a2*ecr_anx + d*cats_secure
iip_post ~ b1*cats_secure + b2*cats_avoid + iip_pre + ecr_anx
ind1 := a1*b1
ind2 := a2*b2
ind12 := a1*d*b2
diff := ind1 - ind2'
M$two_outcomes <- 'tds_ge ~ cats_secure + ecr_anx
tds_ga ~ cats_secure + ecr_avoid'
M$eq_constraint <- 'tds_ge ~ b1*cats_secure + ecr_anx
tds_ga ~ b2*cats_secure + ecr_avoid
b1 == b2'
M$syntax_mix <- 'cats_secure ~ start(-0.3)*ecr_anx + ecr_avoid
tds_ge ~ g*cats_secure + ecr_anx
iip_post ~ tds_ge + 0.5*iip_pre
iip_post ~ 1
tds_ge ~ 1
cats_secure ~~ cats_secure'
M$resid_cov <- 'cats_secure ~ ecr_anx + ecr_avoid
tds_ge ~ cats_secure
tds_ga ~ cats_secure
iip_post ~ tds_ge + tds_ga + iip_pre
tds_ge ~~ tds_ga'

## ---------------------------------------------------------------------------
## 3. fitting and extraction
## ---------------------------------------------------------------------------
LOG <- list()   # case -> warnings / errors, printed at the end

# run expr, collecting warnings (not muffled from the log, but recorded)
with_warnings <- function(expr) {
  ws <- character(0)
  val <- withCallingHandlers(expr, warning = function(w) {
    ws <<- c(ws, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = ws)
}

fit_model <- function(fun, model, data_name, args) {
  dat <- DATA[[data_name]]
  stopifnot(fun %in% c("sem", "cfa", "lavaan"))
  # lavaan inspects the call name, so call by name (lavaan is attached)
  with_warnings(do.call(fun, c(list(model = model, data = dat), args)))
}

effective_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keep <- c("estimator", "se", "test", "meanstructure", "fixed.x",
            "conditional.x", "missing", "likelihood", "information",
            "h1.information", "observed.information", "information.meat",
            "mimic", "auto.cov.y", "auto.fix.first", "std.lv", "ceq.simple",
            "sample.cov.rescale", "bootstrap", "int.ov.free", "int.lv.free")
  out <- lapply(keep, function(k) {
    v <- o[[k]]
    if (is.null(v)) NULL else if (length(v) == 1L) v else I(v)
  })
  names(out) <- keep
  out
}

estimates_table <- function(fit, ...) {
  pe <- parameterEstimates(fit, ..., remove.nonfree = FALSE, remove.eq = FALSE,
                           remove.ineq = FALSE, remove.def = FALSE,
                           remove.system.eq = FALSE)
  pt <- parTable(fit)
  # all fixtures are single-group; constraint / defined rows have group 0
  key_pe <- paste(pe$lhs, pe$op, pe$rhs, sep = "\r")
  key_pt <- paste(pt$lhs, pt$op, pt$rhs, sep = "\r")
  stopifnot(!anyDuplicated(key_pt), nrow(pe) == nrow(pt))
  idx <- match(key_pe, key_pt)
  if (anyNA(idx)) stop("could not match parameterEstimates rows to parTable")
  cols <- c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
            "ci.lower", "ci.upper", "std.lv", "std.all", "std.nox")
  out <- data.frame(row.names = seq_len(nrow(pe)))
  for (k in cols) out[[k]] <- if (k %in% names(pe)) pe[[k]] else NA
  out$label <- pt$label[idx]   # always present ("" when unlabelled)
  out$free  <- as.integer(pt$free[idx])
  out$exo   <- as.integer(pt$exo[idx])
  out$user  <- as.integer(pt$user[idx])
  out$id    <- as.integer(pt$id[idx])
  out$plabel <- pt$plabel[idx]
  out$ustart <- pt$ustart[idx]
  rows_to_list(out)
}

# lavaan's standardizedSolution (std.all, delta-method SEs from the fit's vcov),
# every parameter-table row including fixed and := rows
std_table <- function(fit) {
  ss <- standardizedSolution(fit, type = "std.all", remove.eq = FALSE,
                             remove.ineq = FALSE, remove.def = FALSE)
  cols <- c("lhs", "op", "rhs", "est.std", "se", "z", "pvalue", "ci.lower", "ci.upper")
  out <- data.frame(row.names = seq_len(nrow(ss)))
  for (k in cols) out[[k]] <- if (k %in% names(ss)) ss[[k]] else NA
  rows_to_list(out)
}

test_info <- function(fit) {
  tl <- lavInspect(fit, "test")
  out <- lapply(tl, function(t) {
    r <- list()
    for (k in names(t)) {
      v <- t[[k]]
      if ((is.numeric(v) || is.character(v) || is.logical(v)) && length(v) == 1L)
        r[[k]] <- v
    }
    r
  })
  names(out) <- names(tl)
  out
}

case_json <- function(name, fit, model, data_name, fun, args, warns) {
  implied <- lavInspect(fit, "implied")
  samp    <- lavInspect(fit, "sampstat")
  call <- list(`function` = fun,
               estimator = if (is.null(args$estimator)) "ML" else args$estimator,
               cluster = args$cluster,
               meanstructure = args$meanstructure)
  for (k in setdiff(names(args), names(call))) call[[k]] <- args[[k]]
  if (is.null(call$cluster)) call["cluster"] <- list(NULL)
  if (is.null(call$meanstructure)) call["meanstructure"] <- list(NULL)
  obj <- list(
    case = name,
    lavaan_version = LAVAAN_VERSION,
    model = model,
    data = paste0("data/", data_name, ".csv"),
    call = call,
    options = effective_options(fit),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    nobs = lavInspect(fit, "nobs"),
    npar = lavInspect(fit, "npar"),
    estimates = estimates_table(fit, standardized = TRUE),
    std_solution = std_table(fit),
    fit = named_list(fitMeasures(fit)),
    r2 = named_list(lavInspect(fit, "r2")),
    vcov = mat_to_list(lavInspect(fit, "vcov")),
    implied_cov = mat_to_list(implied$cov),
    implied_mean = vec_to_list(implied$mean),
    sample_cov = mat_to_list(samp$cov),
    sample_mean = vec_to_list(samp$mean),
    test = test_info(fit),
    warnings = I(warns)
  )
  if (!is.null(args$cluster)) {
    # lavInspect(fit, "nclusters") reports 1 for a single-level model with
    # cluster= in lavaan 0.6-14, so take the level-2 count from the data slot
    # and cross-check it against the data
    ncl <- fit@Data@Lp[[1]]$nclusters[[2]]
    stopifnot(ncl == length(unique(DATA[[data_name]][[args$cluster]])))
    obj$nclusters <- as.integer(ncl)
  }
  obj
}

run_case <- function(name, model, data_name, fun = "sem", args = list(),
                     extra = NULL) {
  cat(sprintf("%-38s", name))
  res <- tryCatch(fit_model(fun, model, data_name, args),
                  error = function(e) e)
  if (inherits(res, "error")) {
    cat("ERROR:", conditionMessage(res), "\n")
    LOG[[name]] <<- paste("ERROR:", conditionMessage(res))
    return(invisible(NULL))
  }
  fit <- res$value
  obj <- case_json(name, fit, model, data_name, fun, args, res$warnings)
  if (!is.null(extra)) obj <- c(obj, extra(fit))
  write_json_file(obj, file.path(CASE_DIR, paste0(name, ".json")))
  if (length(res$warnings)) LOG[[name]] <<- res$warnings
  cat(sprintf("ok  chisq=%.4f df=%d%s\n", fitMeasures(fit, "chisq"),
              as.integer(fitMeasures(fit, "df")),
              if (length(res$warnings)) "  [WARNINGS]" else ""))
  invisible(fit)
}

MLR_CL <- list(cluster = "therapist", estimator = "MLR")

## ---- ML cases --------------------------------------------------------------
run_case("pd_sem",            M$pd,             "political_democracy")
run_case("pd_labels",         M$pd_labels,      "political_democracy")
run_case("hs_cfa",            M$hs_cfa,         "holzinger", fun = "cfa")
run_case("latent_na_ml",      M$latent_na,      "holzinger", fun = "cfa")
run_case("serial_ml",         M$serial,         "clients_a")
run_case("serial_ml_b",       M$serial,         "clients_b")
run_case("serial_nodirect_ml", M$serial_nodirect, "clients_a")
run_case("serial_misspec_ml", M$serial_misspec, "clients_a")
run_case("parallel_ml",       M$parallel,       "clients_a")
run_case("serial2_ml",        M$serial2,        "clients_a")
run_case("two_outcomes_ml",   M$two_outcomes,   "clients_a")
run_case("eq_constraint_ml",  M$eq_constraint,  "clients_a")
run_case("syntax_mix_ml",     M$syntax_mix,     "clients_a")
run_case("resid_cov_ml",      M$resid_cov,      "clients_a")
run_case("serial_meanstructure_ml", M$serial,   "clients_a",
         args = list(meanstructure = TRUE))

## ---- robust / clustered cases ---------------------------------------------
run_case("pd_mlr",                   M$pd,             "political_democracy",
         args = list(estimator = "MLR"))
run_case("serial_mlr_a",             M$serial,         "clients_a",
         args = list(estimator = "MLR"))
run_case("serial_mlr_cluster_a",     M$serial,         "clients_a", args = MLR_CL)
run_case("serial_mlr_cluster_b",     M$serial,         "clients_b", args = MLR_CL)
run_case("serial_misspec_mlr_cluster_a", M$serial_misspec, "clients_a", args = MLR_CL)
run_case("parallel_mlr_cluster_a",   M$parallel,       "clients_a", args = MLR_CL)

## ---------------------------------------------------------------------------
## 4. nested model tests
## ---------------------------------------------------------------------------
lrt_table <- function(tab) {
  df <- as.data.frame(tab)
  out <- data.frame(model = rownames(df), stringsAsFactors = FALSE)
  for (k in names(df)) out[[k]] <- df[[k]]
  list(rows = rows_to_list(out),
       heading = I(attr(tab, "heading")))
}

# Not lavaan output: the Satorra-Bentler (2001) difference scaling constant
# cd = (df0*c0 - df1*c1) / (df0 - df1) computed here from the two models'
# chisq.scaling.factor, so that (T0 - T1) / cd can be checked against the
# "Chisq diff" column of the default robust test.
sb2001_derived <- function(fit0, fit1) {
  fm0 <- fitMeasures(fit0); fm1 <- fitMeasures(fit1)
  if (!"chisq.scaling.factor" %in% names(fm0)) return(NULL)
  d0 <- fm0[["df"]]; d1 <- fm1[["df"]]
  c0 <- fm0[["chisq.scaling.factor"]]; c1 <- fm1[["chisq.scaling.factor"]]
  cd <- (d0 * c0 - d1 * c1) / (d0 - d1)
  list(note = "computed in make_reference.R, not returned by lavaan",
       cd = cd, chisq_diff = (fm0[["chisq"]] - fm1[["chisq"]]) / cd,
       df_diff = d0 - d1)
}

run_lrt <- function(name, model0, model1, data_name, args = list(),
                    methods = character(0)) {
  cat(sprintf("%-38s", paste0("lrt_", name)))
  r1 <- fit_model("sem", model1, data_name, args)
  r0 <- fit_model("sem", model0, data_name, args)
  fit1 <- r1$value; fit0 <- r0$value
  warns <- c(r1$warnings, r0$warnings)
  scaled <- lavInspect(fit1, "options")$test %in%
    c("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus",
      "mean.var.adjusted", "scaled.shifted")
  default_method <- if (any(scaled)) "satorra.bentler.2001" else "standard"
  d <- with_warnings(lavTestLRT(fit0, fit1))
  a <- with_warnings(anova(fit1, fit0))
  warns <- c(warns, d$warnings, a$warnings)
  tables <- list()
  for (m in methods) {
    t <- with_warnings(lavTestLRT(fit0, fit1, method = m))
    warns <- c(warns, t$warnings)
    tables[[m]] <- lrt_table(t$value)
  }
  keep_fm <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
               "pvalue.scaled", "chisq.scaling.factor", "logl", "aic", "bic")
  fm <- function(f) named_list(fitMeasures(f, intersect(keep_fm, names(fitMeasures(f)))))
  call <- list(`function` = "sem",
               estimator = if (is.null(args$estimator)) "ML" else args$estimator,
               cluster = args$cluster, meanstructure = NULL)
  if (is.null(call$cluster)) call["cluster"] <- list(NULL)
  call["meanstructure"] <- list(NULL)
  obj <- list(
    case = paste0("lrt_", name),
    lavaan_version = LAVAAN_VERSION,
    model0 = model0, model1 = model1,
    data = paste0("data/", data_name, ".csv"),
    call = call,
    lavTestLRT_call = "lavTestLRT(fit0, fit1)",
    default_method = default_method,
    lrt = lrt_table(d$value),
    anova_call = "anova(fit1, fit0)",
    anova = lrt_table(a$value),
    other_methods = if (length(tables)) tables else NULL,
    fit0 = fm(fit0), fit1 = fm(fit1),
    derived = sb2001_derived(fit0, fit1),
    warnings = I(warns)
  )
  if (length(methods) == 0L) obj$other_methods <- NULL
  write_json_file(obj, file.path(CASE_DIR, paste0("lrt_", name, ".json")))
  if (length(warns)) LOG[[paste0("lrt_", name)]] <<- warns
  dv <- as.data.frame(d$value)
  cat(sprintf("ok  Chisq diff=%.4f df=%d p=%.4g (%s)\n", dv[2, "Chisq diff"],
              as.integer(dv[2, "Df diff"]), dv[2, "Pr(>Chisq)"], default_method))
}

run_lrt("serial_ml_a",          M$serial_nodirect, M$serial, "clients_a")
run_lrt("serial_mlr_cluster_a", M$serial_nodirect, M$serial, "clients_a",
        args = MLR_CL, methods = c("satorra.bentler.2001", "satorra.bentler.2010"))
run_lrt("serial_ml_b",          M$serial_nodirect, M$serial, "clients_b")
run_lrt("serial_mlr_cluster_b", M$serial_nodirect, M$serial, "clients_b",
        args = MLR_CL, methods = c("satorra.bentler.2001", "satorra.bentler.2010"))
run_lrt("parallel_vs_serial2_ml", M$parallel, M$serial2, "clients_a")
run_lrt("parallel_vs_serial2_mlr_cluster_a", M$parallel, M$serial2, "clients_a",
        args = MLR_CL, methods = c("satorra.bentler.2001", "satorra.bentler.2010"))

## ---------------------------------------------------------------------------
## 5. bootstrap reference (rough comparison only: resampling differs from numpy)
## ---------------------------------------------------------------------------
boot_extra <- function(fit) {
  cols <- c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
            "ci.lower", "ci.upper")
  ci <- function(type) {
    pe <- parameterEstimates(fit, boot.ci.type = type, level = 0.95,
                             remove.nonfree = FALSE, remove.def = FALSE)
    rows_to_list(pe[, intersect(cols, names(pe))])
  }
  bt <- lavInspect(fit, "boot")
  list(
    bootstrap_R = nrow(bt),
    bootstrap_failed = sum(!stats::complete.cases(bt)),
    seed = 20240603L,
    boot_ci = list(perc = ci("perc"), bca.simple = ci("bca.simple"),
                   norm = ci("norm"))
  )
}
set.seed(20240603L)
run_case("serial_boot_ml", M$serial, "clients_a",
         args = list(se = "bootstrap", bootstrap = 1000L), extra = boot_extra)

## ---------------------------------------------------------------------------
cat("\nlavaan", LAVAAN_VERSION, "\n")
if (length(LOG)) {
  cat("\nWarnings / errors:\n")
  for (k in names(LOG)) {
    cat(" ", k, ":\n")
    for (w in unique(LOG[[k]])) cat("    ", gsub("\n", "\n     ", w), "\n")
  }
} else {
  cat("no warnings\n")
}

## ---------------------------------------------------------------------------
## the study's specs (specs/*.lav) on the bundled example, as a user of lavaan
## would fit them: sem(..., cluster = "therapist", estimator = "MLR")
## ---------------------------------------------------------------------------
SPEC_DIR <- file.path(dirname(REF_DIR), "..", "specs")
for (f in sort(Sys.glob(file.path(SPEC_DIR, "*.lav")))) {
  spec <- paste(readLines(f), collapse = "\n")
  name <- paste0("spec_", sub("\\.lav$", "", basename(f)))
  run_case(name, spec, "example_clients",
           args = list(cluster = "therapist", estimator = "MLR"))
}

