# make_reference_twolevel.R -- lavaan reference fixtures for two-level SEM,
# a therapist-level (three-level) sandwich and single-level FIML.
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_twolevel.R          # all cases
#     Rscript tests/reference/make_reference_twolevel.R demo study   # only some parts
#
# Writes
#   tests/reference/data/*.csv        the data sets, exactly as fitted
#   tests/reference/twolevel/*.json   one JSON per case (keys: twolevel/README.md)
#
# Requirements: R, lavaan 0.6-14 (the internals called below are those of
# 0.6-14: lav_model_gradient, lav_model_hessian, lav_mvnorm_cluster_em_sat,
# lav_mvnorm_cluster_scores_2l, lav_mvnorm_missing_h1_estimate_moments, ...),
# jsonlite. Deterministic: every random step has an explicit set.seed().
# Every model is fitted on the data as read back from its CSV file.
#
# Beyond lavaan's own output each case stores
#   * Newton-polished estimates: lavaan's nlminb stops with max|gradient| of
#     about 1e-6 on two-level fits (estimates off by up to ~1e-5); 1-3 Newton
#     steps with lavaan's own analytic gradient and its own (numerically
#     differentiated) Hessian bring the gradient down to ~1e-10 or below;
#   * the saturated (h1) log-likelihood at convergence: lavaan's two-level h1
#     EM stops at a log-likelihood change < 1e-4 and its FIML h1 EM at
#     max|change| < 1e-5; here the same EM functions are run to 1e-12 and the
#     chi-square is recomputed against that h1 (and the polished h0).

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
LAV <- asNamespace("lavaan")
lavint <- function(name) get(name, envir = LAV)   # lavaan internal, by name

## ---------------------------------------------------------------------------
## locations and which parts to run
## ---------------------------------------------------------------------------
find_ref_dir <- function() {
  if (dir.exists(file.path("tests", "reference"))) {
    return(normalizePath(file.path("tests", "reference")))
  }
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grepl("^--file=", args)])
  if (length(f) == 1L) return(normalizePath(dirname(f)))
  stop("run from the repository root: Rscript tests/reference/make_reference_twolevel.R")
}
REF_DIR  <- find_ref_dir()
REPO_DIR <- normalizePath(file.path(REF_DIR, "..", ".."))
DATA_DIR <- file.path(REF_DIR, "data")
OUT_DIR  <- file.path(REF_DIR, "twolevel")
dir.create(DATA_DIR, showWarnings = FALSE, recursive = TRUE)
dir.create(OUT_DIR, showWarnings = FALSE, recursive = TRUE)
LAVAAN_VERSION <- as.character(packageVersion("lavaan"))
if (LAVAAN_VERSION != "0.6.14")
  warning("these fixtures were made with lavaan 0.6-14; this is ", LAVAAN_VERSION)

PARTS_ALL <- c("demo", "study", "nomixed", "sim", "threelevel", "fiml")
PARTS <- commandArgs(trailingOnly = TRUE)
if (length(PARTS) == 0L) PARTS <- PARTS_ALL
stopifnot(all(PARTS %in% PARTS_ALL))
run_part <- function(p) p %in% PARTS

## ---------------------------------------------------------------------------
## JSON writer with round-trip numeric precision (same conventions as
## make_reference.R: named list -> object, unnamed list -> array, atomic of
## length 1 -> scalar unless wrapped in I(), NA/NaN/Inf -> null)
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
  txt <- jsonlite::prettify(to_json(obj), indent = 1)
  writeLines(txt, path, useBytes = TRUE)
  invisible(path)
}
named_list <- function(v) {
  v <- unclass(v)
  out <- lapply(seq_along(v), function(i) v[[i]])
  names(out) <- names(v)
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
# a list of moments (cov / mean per level or per group) -> JSON-ready
moments_to_list <- function(h) {
  out <- lapply(h, function(b) list(cov = mat_to_list(b$cov), mean = vec_to_list(b$mean)))
  names(out) <- names(h)
  out
}

## ---------------------------------------------------------------------------
## data
## ---------------------------------------------------------------------------
write_data <- function(df, file) {
  # write.csv keeps 15 significant digits; every fit uses the read-back values
  write.csv(df, file.path(DATA_DIR, file), row.names = FALSE, na = "")
}
read_data <- function(file) read.csv(file.path(DATA_DIR, file), stringsAsFactors = FALSE)

## ---------------------------------------------------------------------------
## fitting with warnings recorded
## ---------------------------------------------------------------------------
LOG <- list()
with_warnings <- function(expr) {
  ws <- character(0)
  val <- withCallingHandlers(expr, warning = function(w) {
    ws <<- c(ws, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = ws)
}

effective_options <- function(fit) {
  o <- lavInspect(fit, "options")
  keep <- c("estimator", "se", "test", "meanstructure", "fixed.x",
            "conditional.x", "missing", "likelihood", "information",
            "h1.information", "observed.information", "information.meat",
            "h1.information.meat", "mimic", "auto.cov.y", "auto.fix.first",
            "std.lv", "ceq.simple", "em.h1.tol", "em.h1.iter.max", "optim.method")
  out <- lapply(keep, function(k) {
    v <- o[[k]]
    if (is.null(v)) NULL else if (length(v) == 1L) v else I(v)
  })
  names(out) <- keep
  out
}

# ---- Newton polishing with lavaan's own gradient and Hessian ---------------
# Linear equality constraints (shared labels, '==') are respected by working
# in the null space K of the constraint Jacobian: step = -K (K'HK)^-1 K'g.
ceq_basis <- function(lm) {
  n <- lm@nx.free
  cj <- lm@con.jac
  ceq.idx <- if (nrow(cj) > 0L) attr(cj, "ceq.idx") else integer(0)
  if (length(ceq.idx) == 0L) return(diag(n))
  A <- cj[ceq.idx, , drop = FALSE]
  # orthonormal basis of the null space of A
  q <- qr(t(A))
  r <- q$rank
  Q <- qr.Q(q, complete = TRUE)
  Q[, (r + 1L):n, drop = FALSE]
}
model_gradient <- function(lm, fit) {
  as.numeric(lavint("lav_model_gradient")(
    lavmodel = lm, lavsamplestats = fit@SampleStats, lavdata = fit@Data,
    lavcache = fit@Cache))
}
model_hessian <- function(lm, fit) {
  lavint("lav_model_hessian")(
    lavmodel = lm, lavsamplestats = fit@SampleStats, lavdata = fit@Data,
    lavoptions = fit@Options, lavcache = fit@Cache)
}
model_loglik <- function(lm, fit) {
  implied <- lavint("lav_model_implied")(lm)
  lavint("lav_model_loglik")(lavdata = fit@Data, lavsamplestats = fit@SampleStats,
                              lavimplied = implied, lavmodel = lm,
                              lavoptions = fit@Options)$loglik
}
newton_polish <- function(fit, max_steps = 3L, target = 1e-9) {
  lm <- fit@Model
  K <- ceq_basis(lm)
  x <- lavint("lav_model_get_parameters")(lm)
  proj_grad <- function(lm) {
    g <- model_gradient(lm, fit)
    as.numeric(K %*% crossprod(K, g))
  }
  g <- proj_grad(lm)
  norms <- max(abs(g))
  steps <- 0L
  for (s in seq_len(max_steps)) {
    if (max(abs(g)) < target) break
    H <- model_hessian(lm, fit)
    step <- -as.numeric(K %*% solve(crossprod(K, H %*% K), crossprod(K, g)))
    lm_new <- lavint("lav_model_set_parameters")(lm, x = x + step)
    g_new <- proj_grad(lm_new)
    if (!(max(abs(g_new)) < max(abs(g)))) break       # no longer decreasing
    x <- x + step; lm <- lm_new; g <- g_new
    norms <- c(norms, max(abs(g)))
    steps <- steps + 1L
  }
  list(x = x, model = lm, steps = steps, grad_maxabs = norms,
       grad = g, loglik_raw = model_loglik(fit@Model, fit),
       loglik = model_loglik(lm, fit))
}

# polished values for every parameterEstimates row: free rows from x,
# fixed rows unchanged, := rows through lavaan's def.function
polished_est <- function(fit, pe, pol) {
  pt <- parTable(fit)
  est <- pe$est
  key_pe <- paste(pe$lhs, pe$op, pe$rhs, pe$block, sep = "\r")
  key_pt <- paste(pt$lhs, pt$op, pt$rhs, pt$block, sep = "\r")
  idx <- match(key_pe, key_pt)
  free <- !is.na(idx) & pt$free[idx] > 0L
  est[free] <- pol$x[pt$free[idx[free]]]
  if (any(pe$op == ":=")) {
    dv <- fit@Model@def.function(pol$x)
    di <- which(pe$op == ":=")
    est[di] <- as.numeric(dv[pe$lhs[di]])
  }
  est
}

# ---- table extraction ------------------------------------------------------
partable_rows <- function(fit) {
  pt <- parTable(fit)
  keep <- intersect(c("id", "lhs", "op", "rhs", "user", "block", "level", "group",
                      "free", "ustart", "exo", "label", "plabel", "start", "est",
                      "se"), names(pt))
  rows_to_list(as.data.frame(pt)[, keep])
}
estimates_rows <- function(fit, pol) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE,
                           remove.eq = FALSE, remove.ineq = FALSE,
                           remove.def = FALSE, remove.system.eq = FALSE)
  cols <- c("lhs", "op", "rhs", "block", "level", "label", "est", "se", "z",
            "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all", "std.nox")
  out <- data.frame(row.names = seq_len(nrow(pe)))
  for (k in cols) out[[k]] <- if (k %in% names(pe)) pe[[k]] else NA
  if (!"block" %in% names(pe)) {
    # single-level, single-group: take the block from the parTable (0 for
    # := and constraint rows, as in two-level fits)
    pt0 <- parTable(fit)
    i0 <- match(paste(pe$lhs, pe$op, pe$rhs, sep = "\r"),
                paste(pt0$lhs, pt0$op, pt0$rhs, sep = "\r"))
    stopifnot(!anyNA(i0), !anyDuplicated(i0))
    out$block <- as.integer(pt0$block[i0])
  }
  if (!"level" %in% names(pe)) out$level <- ""
  out$level <- as.character(out$level)
  out$label[is.na(out$label)] <- ""
  out$est_polished <- polished_est(fit, out, pol)
  # the parTable's free index (row/column of vcov and the information
  # matrices; 0 = fixed) and id, matched on lhs/op/rhs/block
  pt <- parTable(fit)
  blk <- if ("block" %in% names(pt)) pt$block else pt$group
  idx <- match(paste(out$lhs, out$op, out$rhs, out$block, sep = "\r"),
               paste(pt$lhs, pt$op, pt$rhs, blk, sep = "\r"))
  stopifnot(!anyNA(idx))
  out$free <- as.integer(pt$free[idx])
  out$id <- as.integer(pt$id[idx])
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
safe <- function(expr) tryCatch(expr, error = function(e) NULL)
# lavInspect(fit, "h1") / "implied": a list per level (two-level) or one block
as_blocks <- function(h) {
  if (!is.null(h$cov)) return(list(`1` = h))
  h
}

## ---------------------------------------------------------------------------
## converged h1
## ---------------------------------------------------------------------------
H1_TOL <- 1e-12
# two-level: lavaan's own EM (lav_mvnorm_cluster_em_sat), run with lavaan's
# tolerance (1e-4, reproduces fit@h1) and with 1e-12
h1_twolevel <- function(fit) {
  em <- lavint("lav_mvnorm_cluster_em_sat")
  YLp <- fit@SampleStats@YLp[[1]]; Lp <- fit@Data@Lp[[1]]
  loose <- em(YLp = YLp, Lp = Lp, verbose = FALSE, tol = 1e-4, max.iter = 5000L,
              min.variance = 1e-5)
  tight <- em(YLp = YLp, Lp = Lp, verbose = FALSE, tol = H1_TOL, max.iter = 100000L,
              min.variance = 1e-5)
  tighter <- em(YLp = YLp, Lp = Lp, verbose = FALSE, tol = 1e-14, max.iter = 100000L,
                min.variance = 1e-5)
  nm_w <- fit@Data@ov.names.l[[1]][[1]]; nm_b <- fit@Data@ov.names.l[[1]][[2]]
  mom <- function(o) list(
    within = list(cov = mat_to_list(`dimnames<-`(o$Sigma.W, list(nm_w, nm_w))),
                  mean = vec_to_list(setNames(as.numeric(o$Mu.W), nm_w))),
    between = list(cov = mat_to_list(`dimnames<-`(o$Sigma.B, list(nm_b, nm_b))),
                   mean = vec_to_list(setNames(as.numeric(o$Mu.B), nm_b))))
  list(loglik_lavaan = fit@h1$loglik, loglik_em_tol_1e4 = loose$logl,
       loglik_converged = tight$logl, loglik_em_tol_1e14 = tighter$logl,
       em_tol = H1_TOL, moments_converged = mom(tight),
       raw = list(cov = list(tight$Sigma.W, tight$Sigma.B),
                  mean = list(tight$Mu.W, tight$Mu.B),
                  loglik = fit@h1$loglik + (tight$logl - loose$logl)))
}
# single-level FIML: lavaan's own EM (lav_mvnorm_missing_h1_estimate_moments)
# with tol 1e-12; log-likelihood as lavaan computes the h1 logl (x part as
# lavaan: for fixed.x the x moments are those of the EM)
h1_fiml <- function(fit) {
  est <- lavint("lav_mvnorm_missing_h1_estimate_moments")
  ll  <- lavint("lav_mvnorm_missing_loglik_samplestats")
  ss <- fit@SampleStats; dd <- fit@Data
  Yp <- ss@missing[[1]]; Mp <- dd@Mp[[1]]; Y <- dd@X[[1]]
  x.idx <- ss@x.idx[[1]]
  loglik_at <- function(mu, sigma) {
    xm <- xc <- NULL
    if (length(x.idx)) { xm <- mu[x.idx]; xc <- sigma[x.idx, x.idx, drop = FALSE] }
    ll(Yp = Yp, Mu = mu, Sigma = sigma, x.idx = x.idx, x.mean = xm, x.cov = xc)
  }
  h1 <- ss@missing.h1[[1]]
  tight <- est(Y = Y, Mp = Mp, Yp = Yp, max.iter = 100000L, tol = H1_TOL)
  nm <- dd@ov.names[[1]]
  d_h1 <- loglik_at(tight$Mu, tight$Sigma) - loglik_at(h1$mu, h1$sigma)
  # lavaan's FIML chisq comes from its objective, the joint (not x-conditional)
  # loglik; its change is what moves chisq (differs from d_h1 under ml.x)
  joint <- function(mu, sigma) ll(Yp = Yp, Mu = mu, Sigma = sigma)
  d_joint <- joint(tight$Mu, tight$Sigma) - joint(h1$mu, h1$sigma)
  list(raw = list(cov = list(tight$Sigma), mean = list(tight$Mu),
                  loglik = fit@h1$loglik + d_h1),
       loglik_change_for_chisq = d_joint,
       loglik_lavaan = fit@h1$loglik,
       loglik_lavaan_recomputed = loglik_at(h1$mu, h1$sigma),
       loglik_converged = loglik_at(tight$Mu, tight$Sigma),
       em_tol = H1_TOL,
       moments_converged = list(`1` = list(
         cov = mat_to_list(`dimnames<-`(tight$Sigma, list(nm, nm))),
         mean = vec_to_list(setNames(as.numeric(tight$Mu), nm)))))
}

# lavaan's own test statistics (lavaan:::lav_model_test) recomputed with the
# polished h0 and the converged h1 in place of lavaan's: gives chisq and, for
# MLR, chisq.scaled and its scaling factor with A1/B1 at the converged h1
# moments. First the same call with lavaan's own pieces, which must reproduce
# fit@test (test_recompute_check).
lav_test_with <- function(fit, lm, h1, ss) {
  implied <- lavint("lav_model_implied")(lm)
  loglik <- lavint("lav_model_loglik")(lavdata = fit@Data, lavsamplestats = ss,
                                       lavimplied = implied, lavmodel = lm,
                                       lavoptions = fit@Options)
  V <- lavint("lav_model_vcov")(lavmodel = lm, lavsamplestats = ss,
                                lavoptions = fit@Options, lavdata = fit@Data,
                                lavpartable = fit@ParTable, lavcache = fit@Cache,
                                lavimplied = implied, lavh1 = h1)
  x <- lavint("lav_model_get_parameters")(lm)
  if (fit@Data@nlevels == 1L) {
    # single-level: lav_model_test takes chisq from the objective (fx) carried
    # as attr(x, "fx"), as after lavaan's optimizer
    attr(x, "fx") <- lavint("lav_model_objective")(lavmodel = lm, lavsamplestats = ss,
                                                   lavdata = fit@Data,
                                                   lavcache = fit@Cache)
  }
  tst <- lavint("lav_model_test")(lavmodel = lm, lavpartable = fit@ParTable,
                                  lavpta = fit@pta, lavsamplestats = ss,
                                  lavimplied = implied, lavh1 = h1,
                                  lavoptions = fit@Options,
                                  x = x,
                                  VCOV = V, lavcache = fit@Cache, lavdata = fit@Data,
                                  lavloglik = loglik)
  list(test = tst, vcov = V)
}
converged_test <- function(fit, pol, raw) {
  base <- lav_test_with(fit, fit@Model, fit@h1, fit@SampleStats)
  # a statistic that is NA in both (e.g. lavaan's negative scaling factor) agrees
  check <- max(vapply(seq_along(fit@test), function(i) {
    a <- as.numeric(base$test[[i]]$stat); b <- as.numeric(fit@test[[i]]$stat)
    if (is.na(a) && is.na(b)) 0 else if (is.na(a) || is.na(b)) Inf else abs(a - b)
  }, numeric(1)))
  h1 <- fit@h1
  for (b in seq_along(raw$cov)) {
    h1$implied$cov[[b]] <- raw$cov[[b]]
    h1$implied$mean[[b]] <- raw$mean[[b]]
  }
  h1$loglik <- raw$loglik
  h1$loglik.group <- raw$loglik
  ss <- fit@SampleStats
  if (fit@Data@nlevels == 1L && ss@missing.flag) {
    # the FIML objective subtracts missing.h1$h1 = -2 logl_h1 / N (without
    # 2 pi, without conditioning on x); shift it by the change to the
    # converged moments
    m2ll <- function(mu, sigma) lavint("lav_mvnorm_missing_loglik_samplestats")(
      Yp = ss@missing[[1]], Mu = mu, Sigma = sigma, log2pi = FALSE,
      minus.two = TRUE) / ss@ntotal
    old <- ss@missing.h1[[1]]
    ss@missing.h1[[1]]$h1 <- old$h1 + m2ll(as.numeric(raw$mean[[1]]), raw$cov[[1]]) -
      m2ll(old$mu, old$sigma)
    ss@missing.h1[[1]]$mu <- as.numeric(raw$mean[[1]])
    ss@missing.h1[[1]]$sigma <- raw$cov[[1]]
  }
  conv <- lav_test_with(fit, pol$model, h1, ss)
  t <- conv$test
  out <- list(
    note = paste("lavaan:::lav_model_test with the polished h0 and the converged h1",
                 "(for FIML also in SampleStats@missing.h1); test_recompute_check is",
                 "max|stat - fit@test stat| when the same call gets lavaan's own pieces"),
    test_recompute_check = check,
    chisq = as.numeric(t[[1]]$stat), df = as.numeric(t[[1]]$df),
    se_polished = I(sqrt(diag(conv$vcov))))
  if (length(t) > 1L) {
    out$scaled_test <- names(t)[2]
    out$chisq_scaled <- as.numeric(t[[2]]$stat)
    out$scaling_factor <- as.numeric(t[[2]]$scaling.factor)
    out$chisq_scaled_lavaan <- as.numeric(fit@test[[2]]$stat)
    out$scaling_factor_lavaan <- as.numeric(fit@test[[2]]$scaling.factor)
  }
  out
}

## ---------------------------------------------------------------------------
## one case -> JSON
## ---------------------------------------------------------------------------
FITS <- list()
run_case <- function(name, model, data_file, args, description, dat = NULL,
                     extra = NULL) {
  cat(sprintf("%-34s", name))
  if (is.null(dat)) dat <- read_data(data_file)
  res <- tryCatch(with_warnings(do.call("sem", c(list(model = model, data = dat), args))),
                  error = function(e) e)
  if (inherits(res, "error")) {
    cat("ERROR:", conditionMessage(res), "\n")
    LOG[[name]] <<- paste("ERROR:", conditionMessage(res))
    return(invisible(NULL))
  }
  fit <- res$value
  warns <- res$warnings
  twolevel <- lavInspect(fit, "nlevels") > 1L
  missing_ml <- fit@Options$missing %in% c("ml", "ml.x")
  robust <- fit@Options$se %in% c("robust.huber.white", "robust.cluster", "robust.sem")

  pol <- newton_polish(fit)
  fm <- fitMeasures(fit, "all")
  h1c <- if (twolevel) h1_twolevel(fit) else if (missing_ml) h1_fiml(fit) else NULL
  chisq_block <- NULL
  test_conv <- NULL
  if (!is.null(h1c)) {
    test_conv <- converged_test(fit, pol, h1c$raw)
    h1c$raw <- NULL
    d_h1 <- if (!is.null(h1c$loglik_change_for_chisq)) h1c$loglik_change_for_chisq else
      h1c$loglik_converged - h1c$loglik_em_tol_1e4
    d_h0 <- pol$loglik - pol$loglik_raw
    chisq_block <- list(
      chisq_lavaan = fm[["chisq"]],
      chisq_converged_h1 = fm[["chisq"]] + 2 * d_h1,
      chisq_converged_h1_polished_h0 = fm[["chisq"]] + 2 * d_h1 - 2 * d_h0,
      unrestricted_logl_lavaan = fm[["unrestricted.logl"]],
      unrestricted_logl_converged = fm[["unrestricted.logl"]] + d_h1,
      logl_lavaan = fm[["logl"]],
      logl_polished = fm[["logl"]] + d_h0,
      h1_loglik_change = d_h1, h0_loglik_change_polish = d_h0)
  }

  call <- c(list(`function` = "sem"), args)
  if (is.null(call$estimator)) call$estimator <- "ML"
  info_fo <- if (robust || twolevel) safe(lavInspect(fit, "information.first.order")) else NULL
  obj <- list(
    case = name,
    description = description,
    lavaan_version = LAVAAN_VERSION,
    model = model,
    data = paste0("data/", data_file),
    call = call,
    options = effective_options(fit),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    nobs = lavInspect(fit, "nobs"),
    ntotal = fit@SampleStats@ntotal,
    npar = lavInspect(fit, "npar"),
    nlevels = lavInspect(fit, "nlevels"),
    parTable = partable_rows(fit),
    parameterEstimates = estimates_rows(fit, pol),
    vcov = mat_to_list(lavInspect(fit, "vcov")),
    fitMeasures = named_list(fm),
    logl = fm[["logl"]],
    information = mat_to_list(lavInspect(fit, "information")),
    information_observed = mat_to_list(safe(lavInspect(fit, "information.observed"))),
    information_expected = mat_to_list(safe(lavInspect(fit, "information.expected"))),
    information_first_order = mat_to_list(info_fo),
    h1 = moments_to_list(as_blocks(lavInspect(fit, "h1"))),
    implied = moments_to_list(as_blocks(lavInspect(fit, "implied"))),
    test = test_info(fit),
    newton = list(
      note = paste("Newton steps from lavaan's estimates with lavaan:::lav_model_gradient",
                   "and lavaan:::lav_model_hessian (objective = lavaan's fmin);",
                   "grad_maxabs[1] is at lavaan's estimates, then after each accepted step"),
      steps = pol$steps, grad_maxabs = I(pol$grad_maxabs),
      x_raw = I(lavint("lav_model_get_parameters")(fit@Model)), x_polished = I(pol$x),
      loglik_raw = pol$loglik_raw, loglik_polished = pol$loglik),
    h1_converged = h1c,
    chisq_converged = chisq_block,
    test_converged = test_conv,
    warnings = I(warns)
  )
  if (twolevel || length(fit@Data@cluster)) {
    Lp <- fit@Data@Lp[[1]]
    obj$cluster <- fit@Data@cluster
    obj$nclusters <- as.integer(Lp$nclusters[[2]])
    obj$cluster_sizes <- I(as.integer(Lp$cluster.size[[2]]))
  }
  if (!is.null(extra)) obj <- c(obj, extra(fit, pol))
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  if (length(warns)) LOG[[name]] <<- warns
  FITS[[name]] <<- list(fit = fit, pol = pol, data = dat, model = model,
                        data_file = data_file)
  cat(sprintf("ok  chisq=%.6f df=%d  |g| %s  (%d Newton)%s\n", fm[["chisq"]],
              as.integer(fm[["df"]]),
              paste(sprintf("%.1e", pol$grad_maxabs), collapse = " -> "), pol$steps,
              if (length(warns)) "  [WARNINGS]" else ""))
  invisible(fit)
}

MLR <- list(estimator = "MLR")

## ---------------------------------------------------------------------------
## 1. lavaan's Demo.twolevel
## ---------------------------------------------------------------------------
M <- list()
M$demo <- '
level: 1
  fw =~ y1 + y2 + y3
  fw ~ x1 + x2 + x3
level: 2
  fb =~ y1 + y2 + y3
  fb ~ w1 + w2
'
if (run_part("demo")) {
  write_data(lavaan::Demo.twolevel, "demo_twolevel.csv")
  desc <- "lavaan's Demo.twolevel with the model of lavaan's documentation"
  run_case("demo_twolevel_ml", M$demo, "demo_twolevel.csv",
           list(cluster = "cluster"), desc)
  run_case("demo_twolevel_mlr", M$demo, "demo_twolevel.csv",
           c(list(cluster = "cluster"), MLR), desc)
}

## ---------------------------------------------------------------------------
## 2. study-shaped path model on the bundled session rows (mixed roles:
##    cats_secure is a covariate at level 1 and an outcome at level 2)
## ---------------------------------------------------------------------------
STUDY_VARS <- c("therapist", "client", "session", "cats_secure", "tds_ge",
                "ecr_anx", "iip_post")
make_study_sessions <- function() {
  s <- read.csv(file.path(REPO_DIR, "src", "attachpath", "datasets", "example_sessions.csv"),
                stringsAsFactors = FALSE)
  s <- s[, STUDY_VARS]
  keep <- stats::complete.cases(s)           # listwise: 1955 -> rows complete
  s <- s[keep, ]
  rownames(s) <- NULL
  s
}
M$study <- '
level: 1
  tds_ge ~ cats_secure
level: 2
  cats_secure ~ a*ecr_anx
  tds_ge ~ b*cats_secure + ecr_anx
  iip_post ~ c*tds_ge + cats_secure
  ab := a*b
  abc := a*b*c
'
if (run_part("study") || run_part("nomixed") || run_part("threelevel")) {
  write_data(make_study_sessions(), "study_sessions.csv")
}
if (run_part("study")) {
  desc <- paste("study-shaped path model on the bundled example sessions (rows with NA",
                "in the model columns dropped); cats_secure has mixed roles")
  CL <- list(cluster = "client")
  run_case("study_twolevel_ml", M$study, "study_sessions.csv", CL,
           paste(desc, "- ML (default)"))
  run_case("study_twolevel_mlr_fixedx_false", M$study, "study_sessions.csv",
           c(CL, MLR, list(fixed.x = FALSE)),
           paste(desc, "- MLR with fixed.x = FALSE: the reference attachpath matches",
                 "for mixed roles (see notes/multilevel.md 1.6)"))
  run_case("study_twolevel_ml_fixedx_false", M$study, "study_sessions.csv",
           c(CL, list(fixed.x = FALSE)),
           paste(desc, "- ML with fixed.x = FALSE (estimates as ML; information differs)"))
  run_case("study_twolevel_mlr_default", M$study, "study_sessions.csv",
           c(CL, MLR),
           paste(desc, "- lavaan's default MLR, for documentation only: it zeroes the",
                 "meat rows of cats_secure at both levels (notes 1.6), so its SEs of",
                 "the level-2 paths are wrong and attachpath does NOT match them"))
}

## ---------------------------------------------------------------------------
## 3. the study-shaped model without mixed roles: the session-level slope on
##    the person-mean-centred CATS (within-only covariate), the client mean of
##    CATS as a between-only variable, so lavaan's default MLR is the reference
## ---------------------------------------------------------------------------
make_centred_sessions <- function() {
  s <- read_data("study_sessions.csv")
  cm <- ave(s$cats_secure, s$client, FUN = mean)
  s$cats_secure_w <- s$cats_secure - cm      # within-client deviation
  s$cats_secure_b <- cm                      # client mean (between-only)
  s
}
M$nomixed <- '
level: 1
  tds_ge ~ bw*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
  ab := a*b
  abc := a*b*c
  contextual := b - bw
'
# the same label b on the level-1 and the level-2 slope (no contextual
# effect); ab, abc and bc then combine parameters of both levels
M$crosslevel <- '
level: 1
  tds_ge ~ b*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
  ab := a*b
  abc := a*b*c
  bc := b*c
'
if (run_part("nomixed") || run_part("threelevel")) {
  write_data(make_centred_sessions(), "study_sessions_centred.csv")
}
if (run_part("nomixed")) {
  desc <- paste("study-shaped model without mixed roles: cats_secure_w = session value",
                "minus client mean (within-only covariate), cats_secure_b = client mean",
                "(between-only)")
  CL <- list(cluster = "client")
  run_case("nomixed_twolevel_ml", M$nomixed, "study_sessions_centred.csv", CL,
           paste(desc, "- ML"))
  run_case("nomixed_twolevel_mlr", M$nomixed, "study_sessions_centred.csv", c(CL, MLR),
           paste(desc, "- lavaan's default MLR (attachpath matches it: no mixed roles)"))
  desc <- paste(desc, "; the level-1 and the level-2 slope of tds_ge share the label b",
                "(cross-level equality); := combine both levels")
  run_case("crosslevel_eq_twolevel_ml", M$crosslevel, "study_sessions_centred.csv", CL,
           paste(desc, "- ML"))
  run_case("crosslevel_eq_twolevel_mlr", M$crosslevel, "study_sessions_centred.csv",
           c(CL, MLR), paste(desc, "- MLR"))
}

## ---------------------------------------------------------------------------
## 4. a second, simulated two-level data set: 150 clusters of 1..15 rows
##    (12 of size 1), a two-level CFA with a within and a between covariate
## ---------------------------------------------------------------------------
simulate_twolevel <- function(seed = 20241201L, J = 150L) {
  set.seed(seed)
  sizes <- sample(1:15, J, replace = TRUE)
  sizes[1:12] <- 1L                             # some clusters of size 1
  sizes <- sample(sizes)                        # spread them over the ids
  cl <- rep(seq_len(J), times = sizes)
  n <- length(cl)
  # between part: covariate w, factor fb = 0.5 w + zeta_b, indicator residuals
  w  <- rnorm(J)
  fb <- 0.5 * w + rnorm(J, sd = sqrt(0.4))
  lb <- c(1, 0.9, 0.7, 0.8)
  eb <- sapply(c(0.15, 0.10, 0.20, 0.12), function(v) rnorm(J, sd = sqrt(v)))
  # within part: covariate x, factor fw = 0.4 x + zeta_w
  x  <- rnorm(n)
  fw <- 0.4 * x + rnorm(n, sd = sqrt(0.8))
  lw <- c(1, 0.8, 0.9, 0.6)
  ew <- sapply(c(0.5, 0.6, 0.4, 0.7), function(v) rnorm(n, sd = sqrt(v)))
  mu <- c(2, 3, 2.5, 1)
  Y <- sapply(1:4, function(k) mu[k] + lb[k] * fb[cl] + eb[cl, k] + lw[k] * fw + ew[, k])
  colnames(Y) <- paste0("y", 1:4)
  d <- data.frame(cluster = cl, round(Y, 6), x = round(x, 6), w = round(w[cl], 6))
  d
}
M$sim <- '
level: within
  fw =~ y1 + y2 + y3 + y4
  fw ~ x
level: between
  fb =~ y1 + y2 + y3 + y4
  fb ~ g*w
'
if (run_part("sim")) {
  write_data(simulate_twolevel(), "sim_twolevel.csv")
  desc <- paste("simulated two-level CFA (seed 20241201): 150 clusters of 1..15 rows",
                "(12 of size 1), x within-only, w between-only; level labels within/between")
  run_case("sim_twolevel_cfa_ml", M$sim, "sim_twolevel.csv", list(cluster = "cluster"),
           paste(desc, "- ML"))
  run_case("sim_twolevel_cfa_mlr", M$sim, "sim_twolevel.csv",
           c(list(cluster = "cluster"), MLR), paste(desc, "- MLR"))
}

## ---------------------------------------------------------------------------
## 5. three levels: two-level ML for sessions in clients, sandwich over
##    therapists (notes/multilevel.md section 2), computed here from lavaan's
##    own per-client scores
## ---------------------------------------------------------------------------
# per-client log-likelihood scores with respect to the free parameters:
# -0.5 * lav_mvnorm_cluster_scores_2l(...) %*% Delta  (the scores are those of
# -2 logl with respect to (Mu.W, vech Sigma.W, Mu.B, vech Sigma.B)); the
# columns lavaan zeroes in its meat (variables in its x set, notes 1.6) are
# found by comparing with lavaan's own first-order information and zeroed too
client_scores <- function(fit) {
  Lp <- fit@Data@Lp[[1]]
  imp <- fit@implied
  args <- list(Y1 = fit@Data@X[[1]], YLp = fit@SampleStats@YLp[[1]], Lp = Lp,
               Mu.W = imp$mean[[1]], Sigma.W = imp$cov[[1]],
               Mu.B = imp$mean[[2]], Sigma.B = imp$cov[[2]])
  S <- do.call(lavint("lav_mvnorm_cluster_scores_2l"), args)
  J <- Lp$nclusters[[2]]
  B1_lavaan <- do.call(lavint("lav_mvnorm_cluster_information_firstorder"),
                       c(args, list(x.idx = fit@SampleStats@x.idx[[1]],
                                    divide.by.two = TRUE)))
  B1_mine <- crossprod(S / 2) / J
  zeroed <- which(apply(B1_lavaan == 0, 1, all) & !apply(B1_mine == 0, 1, all))
  S[, zeroed] <- 0
  B1_check <- max(abs(crossprod(S / 2) / J - B1_lavaan))
  Delta <- lavint("computeDelta")(lavmodel = fit@Model)[[1]]
  list(scores = -0.5 * S %*% Delta, zeroed = zeroed, B1_check = B1_check,
       cluster_id = Lp$cluster.id[[2]], J = J)
}
# inverse of the bread respecting linear equality constraints:
# K (K'AK)^-1 K' (= lavaan's augmented inverse for linear constraints)
bread_inverse <- function(fit, A) {
  K <- ceq_basis(fit@Model)
  K %*% solve(crossprod(K, A %*% K), t(K))
}
def_jacobian <- function(fit, x) {
  if (!any(parTable(fit)$op == ":=")) return(NULL)
  lavint("lav_func_jacobian_complex")(func = fit@Model@def.function, x = x)
}
threelevel_case <- function(name, base_case, description) {
  cat(sprintf("%-34s", name))
  fit <- FITS[[base_case]]$fit
  dat <- FITS[[base_case]]$data
  stopifnot(!is.null(fit))
  sc <- client_scores(fit)
  J <- sc$J
  A <- lavInspect(fit, "information")            # per-cluster units; vcov = A^-1/J
  Ainv <- bread_inverse(fit, A)
  # (1) summed by client: must reproduce lavaan's two-level MLR
  B_client <- crossprod(sc$scores) / J
  V_client <- Ainv %*% B_client %*% Ainv / J
  V_lav <- unclass(lavInspect(fit, "vcov"))
  fo_lav <- unclass(lavInspect(fit, "information.first.order"))
  check_client <- max(abs(V_client - V_lav)) / max(abs(V_lav))
  check_meat <- max(abs(B_client - fo_lav)) / max(abs(fo_lav))
  # (2) summed by therapist, G/(G-1)
  ther_of_client <- tapply(dat$therapist, dat$client, function(t) {
    u <- unique(t); stopifnot(length(u) == 1L); u })
  ther <- ther_of_client[as.character(sc$cluster_id)]
  St <- rowsum(sc$scores, ther, reorder = TRUE)
  G <- nrow(St)
  B3 <- crossprod(St) / J * G / (G - 1)
  V3 <- Ainv %*% B3 %*% Ainv / J
  x <- lavint("lav_model_get_parameters")(fit@Model)
  dimnames(V_client) <- dimnames(V3) <- dimnames(B3) <- dimnames(V_lav)
  dimnames(B_client) <- dimnames(V_lav)
  se_tab <- function(V) {
    pt <- parTable(fit)
    fr <- pt[pt$free > 0L, ]
    fr <- fr[order(fr$free), ]
    out <- data.frame(lhs = fr$lhs, op = fr$op, rhs = fr$rhs, block = fr$block,
                      label = fr$label, est = x[fr$free], se = sqrt(diag(V))[fr$free])
    Jd <- def_jacobian(fit, x)
    if (!is.null(Jd)) {
      df <- pt[pt$op == ":=", ]
      out <- rbind(out, data.frame(lhs = df$lhs, op = df$op, rhs = df$rhs, block = 0L,
                                   label = df$label,
                                   est = as.numeric(fit@Model@def.function(x)),
                                   se = sqrt(diag(Jd %*% V %*% t(Jd)))))
    }
    rows_to_list(out)
  }
  obj <- list(
    case = name, description = description, lavaan_version = LAVAAN_VERSION,
    base_case = base_case, model = FITS[[base_case]]$model,
    data = paste0("data/", FITS[[base_case]]$data_file),
    recipe = paste(
      "s_j = -0.5 * lavaan:::lav_mvnorm_cluster_scores_2l(Y1, YLp, Lp, Mu.W, Sigma.W, Mu.B, Sigma.B)",
      "%*% lavaan:::computeDelta(fit@Model)[[1]] (per client; columns zeroed as in lavaan's meat);",
      "S_t = rowsum(s_j, therapist); B3 = crossprod(S_t)/J * G/(G-1);",
      "A = lavInspect(fit, 'information') (per-cluster units); V = A^-1 B3 A^-1 / J,",
      "with A^-1 = K (K'AK)^-1 K' under equality constraints; := SEs by the delta method",
      "with lavaan:::lav_func_jacobian_complex(def.function)"),
    nclients = J, ntherapists = G,
    estimates_at = "lavaan's estimates (not polished), as lavaan's vcov",
    zeroed_meat_columns = I(as.integer(sc$zeroed)),
    check_meat_B1_vs_lavaan_maxabs = sc$B1_check,
    check_client_meat_vs_information_first_order_relmax = check_meat,
    check_client_vcov_vs_lavaan_relmax = check_client,
    information = mat_to_list(A),
    client_scores = mat_to_list(`colnames<-`(sc$scores, colnames(V_lav))),
    client_ids = I(as.integer(sc$cluster_id)),
    client_therapist = I(as.integer(ther)),
    meat_client = mat_to_list(B_client),
    vcov_client = mat_to_list(V_client),
    vcov_client_times_J_over_Jm1 = mat_to_list(V_client * J / (J - 1)),
    vcov_lavaan_mlr = mat_to_list(V_lav),
    meat_therapist = mat_to_list(B3),
    vcov_therapist = mat_to_list(V3),
    se_client = se_tab(V_client),
    se_therapist = se_tab(V3)
  )
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok  client recipe vs lavaan vcov: %.2e (meat %.2e); G = %d\n",
              check_client, check_meat, G))
}
if (run_part("threelevel")) {
  # the base fits are made here when their parts were not run
  need <- list(
    nomixed_twolevel_mlr = list(M$nomixed, "study_sessions_centred.csv"),
    crosslevel_eq_twolevel_mlr = list(M$crosslevel, "study_sessions_centred.csv"))
  for (b in names(need)) if (is.null(FITS[[b]])) {
    run_case(b, need[[b]][[1]], need[[b]][[2]], list(cluster = "client", estimator = "MLR"),
             paste(b, "(base fit of a three-level case)"))
  }
  if (is.null(FITS$study_twolevel_mlr_fixedx_false)) {
    run_case("study_twolevel_mlr_fixedx_false", M$study, "study_sessions.csv",
             list(cluster = "client", estimator = "MLR", fixed.x = FALSE),
             "study_twolevel_mlr_fixedx_false (base fit of a three-level case)")
  }
  tl <- "therapist-clustered sandwich (sessions in clients in therapists) for"
  threelevel_case("threelevel_nomixed_mlr", "nomixed_twolevel_mlr",
                  paste(tl, "nomixed_twolevel_mlr (lavaan's default MLR; no mixed roles)"))
  threelevel_case("threelevel_crosslevel_eq_mlr", "crosslevel_eq_twolevel_mlr",
                  paste(tl, "crosslevel_eq_twolevel_mlr (cross-level equality constraint)"))
  threelevel_case("threelevel_study_mlr_fixedx_false", "study_twolevel_mlr_fixedx_false",
                  paste(tl, "study_twolevel_mlr_fixedx_false (mixed roles, fixed.x = FALSE:",
                        "no meat columns zeroed)"))
}

## ---------------------------------------------------------------------------
## 6. single-level FIML on client rows with MAR missingness
## ---------------------------------------------------------------------------
make_clients_missing <- function(seed = 20241202L) {
  s <- read.csv(file.path(REPO_DIR, "src", "attachpath", "datasets", "example_sessions.csv"),
                stringsAsFactors = FALSE)
  first <- function(v) tapply(v, s$client, function(z) z[1])
  mean_na <- function(v) tapply(v, s$client, function(z) mean(z, na.rm = TRUE))
  d <- data.frame(client = as.integer(names(first(s$client))),
                  therapist = as.integer(first(s$therapist)),
                  ecr_anx = as.numeric(first(s$ecr_anx)),
                  cats_secure = as.numeric(mean_na(s$cats_secure)),
                  tds_ge = as.numeric(mean_na(s$tds_ge)),
                  iip_post = as.numeric(first(s$iip_post)))
  stopifnot(!anyNA(d))
  set.seed(seed)
  n <- nrow(d)
  z <- function(v) (v - mean(v)) / sd(v)
  # MAR: dropout (missing IIP post) more likely when engagement is low
  p_iip  <- plogis(-1.6 - 1.2 * z(d$tds_ge))
  # CATS missing more often with high ECR anxiety, TDS with low CATS
  p_cats <- plogis(-2.6 + 0.8 * z(d$ecr_anx))
  p_tds  <- plogis(-2.6 - 0.8 * z(d$cats_secure))
  m_iip <- runif(n) < p_iip
  m_cats <- runif(n) < p_cats
  m_tds <- runif(n) < p_tds
  m_ecr <- runif(n) < 0.03                      # a few covariates missing (MCAR)
  d$iip_post[m_iip] <- NA
  d$cats_secure[m_cats] <- NA
  d$tds_ge[m_tds & !(m_cats & m_iip)] <- NA     # keep at least one y per row
  d$ecr_anx[m_ecr] <- NA
  d
}
make_holzinger_mcar <- function(seed = 20241203L) {
  h <- lavaan::HolzingerSwineford1939[, c("id", "school", paste0("x", 1:9))]
  set.seed(seed)
  X <- as.matrix(h[, paste0("x", 1:9)])
  miss <- matrix(runif(length(X)) < 0.10, nrow(X))
  miss[rowSums(!miss) == 0L, 1L] <- FALSE       # no row entirely missing
  X[miss] <- NA
  h[, paste0("x", 1:9)] <- X
  h
}
M$serial_fiml <- '
cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure + ecr_anx
iip_post ~ c*tds_ge + cats_secure + ecr_anx
abc := a*b*c
'
# over-identified (df = 2): the direct ecr_anx paths to tds_ge and iip_post removed
M$serial_fiml_nodirect <- '
cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + cats_secure
abc := a*b*c
'
M$hs_cfa <- '
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
'
if (run_part("fiml")) {
  write_data(make_clients_missing(), "clients_missing.csv")
  write_data(make_holzinger_mcar(), "holzinger_mcar.csv")
  desc <- paste("client rows of the bundled example (means of session CATS/TDS) with",
                "seeded MAR missingness (seed 20241202)")
  run_case("fiml_serial_ml", M$serial_fiml, "clients_missing.csv",
           list(missing = "ml"), paste(desc, "- missing='ml' (rows with missing ecr_anx dropped)"))
  run_case("fiml_serial_mlx", M$serial_fiml, "clients_missing.csv",
           list(missing = "ml.x"), paste(desc, "- missing='ml.x'"))
  run_case("fiml_serial_mlr", M$serial_fiml, "clients_missing.csv",
           list(missing = "ml", estimator = "MLR"), paste(desc, "- missing='ml', MLR"))
  run_case("fiml_serial_mlr_cluster", M$serial_fiml, "clients_missing.csv",
           list(missing = "ml", estimator = "MLR", cluster = "therapist"),
           paste(desc, "- missing='ml', MLR, cluster='therapist'"))
  desc2 <- paste(desc, "; over-identified variant without the direct ecr_anx paths (df = 2)")
  run_case("fiml_nodirect_ml", M$serial_fiml_nodirect, "clients_missing.csv",
           list(missing = "ml"), paste(desc2, "- missing='ml'"))
  run_case("fiml_nodirect_mlx", M$serial_fiml_nodirect, "clients_missing.csv",
           list(missing = "ml.x"), paste(desc2, "- missing='ml.x'"))
  run_case("fiml_nodirect_mlr", M$serial_fiml_nodirect, "clients_missing.csv",
           list(missing = "ml", estimator = "MLR"), paste(desc2, "- missing='ml', MLR"))
  run_case("fiml_nodirect_mlr_cluster", M$serial_fiml_nodirect, "clients_missing.csv",
           list(missing = "ml", estimator = "MLR", cluster = "therapist"),
           paste(desc2, "- missing='ml', MLR, cluster='therapist'"))
  run_case("fiml_hs_cfa_ml", M$hs_cfa, "holzinger_mcar.csv", list(missing = "ml"),
           "HolzingerSwineford1939 x1..x9 with 10% MCAR cells (seed 20241203), missing='ml'")
}

## ---------------------------------------------------------------------------
## log
## ---------------------------------------------------------------------------
cat("\nlavaan", LAVAAN_VERSION, "\n")
if (length(LOG)) {
  cat("\nWarnings / errors:\n")
  for (k in names(LOG)) {
    cat(" ", k, ":\n")
    for (w in unique(LOG[[k]])) cat("    ", gsub("\n", "\n     ", w), "\n")
  }
} else cat("no warnings\n")
