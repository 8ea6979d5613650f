# make_reference_twolevel_fiml.R -- lavaan 0.6-14 reference fixtures for
# two-level FIML: sem(model, data, cluster = "client", missing = "ml"), with
# and without estimator = "MLR" (issue 14, item 4).
#
# Usage (from the repository root):
#     Rscript tests/reference/make_reference_twolevel_fiml.R
#
# Writes
#   tests/reference/data/sessions_missing.csv      the data, exactly as fitted
#   tests/reference/twolevel/fiml2l_*.json         one JSON per case
#
# Data: the first 150 clients of study_sessions_centred.csv (made by
# make_reference_twolevel.R), with missing values injected (seed 20241204):
#   * tds_ge (level 1, "both"): ~10% of the cells, MAR on cats_secure_w,
#     P = logistic(-2.3 + 0.8 z(cats_secure_w));
#   * iip_post (between-only outcome): missing for whole clients (dropout),
#     P = logistic(-1.7 - 1.0 z(client mean of tds_ge));
#   * cats_secure_b (between-only): 5% of the clients MCAR;
#   * 4 rows made entirely empty (every model column NA): lavaan drops them.
# The covariates (cats_secure_w at level 1, ecr_anx at level 2) stay complete,
# so no row is dropped for a missing covariate.
#
# Every case stores what make_reference_twolevel.R stores (the helper
# functions are taken from that script), plus:
#   * Newton-polished estimates (lavaan's analytic two-level FIML gradient and
#     its numerically differentiated Hessian; newton_polish);
#   * a converged h1: lavaan fits the two-level FIML saturated model by
#     nlminb with rel.tol = 1e-7 (lav_h1_implied.R).  Here the same fit
#     (lavaan's Cholesky-parameterised unrestricted table on the fit's data
#     slots, fixed.x = FALSE) is run with rel.tol = 1e-10 and then
#     Newton-polished the same way (sat_fit); its loglik gives the converged
#     unrestricted.logl and chisq.

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

# the helper functions of make_reference_twolevel.R (everything before its
# first case), evaluated without running any of its parts
local({
  f <- file.path("tests", "reference", "make_reference_twolevel.R")
  if (!file.exists(f)) stop("run from the repository root")
  lines <- readLines(f)
  stop_at <- grep("^MLR <- list\\(estimator", lines)[1]
  eval(parse(text = lines[seq_len(stop_at)]), envir = globalenv())
})

## ---------------------------------------------------------------------------
## data
## ---------------------------------------------------------------------------
make_sessions_missing <- function() {
  s <- read_data("study_sessions_centred.csv")
  clients <- sort(unique(s$client))[1:150]
  s <- s[s$client %in% clients, c("therapist", "client", "session", "tds_ge",
                                  "cats_secure_w", "cats_secure_b", "ecr_anx",
                                  "iip_post")]
  rownames(s) <- NULL
  set.seed(20241204)
  z <- function(v) (v - mean(v)) / sd(v)
  logistic <- function(x) 1 / (1 + exp(-x))
  p_tds <- logistic(-2.3 + 0.8 * z(s$cats_secure_w))
  s$tds_ge[runif(nrow(s)) < p_tds] <- NA
  tmean <- tapply(s$tds_ge, s$client, mean, na.rm = TRUE)
  cl <- as.character(clients)
  drop_iip <- cl[runif(length(cl)) < logistic(-1.7 - 1.0 * z(tmean[cl]))]
  s$iip_post[as.character(s$client) %in% drop_iip] <- NA
  drop_cb <- cl[runif(length(cl)) < 0.05]
  s$cats_secure_b[as.character(s$client) %in% drop_cb] <- NA
  # clients with at least 3 rows keep a row that is entirely empty
  big <- names(which(table(s$client) >= 3))
  for (c0 in sample(big, 4)) {
    r <- which(as.character(s$client) == c0)[2]
    s[r, c("tds_ge", "cats_secure_w", "cats_secure_b", "ecr_anx", "iip_post")] <- NA
  }
  s
}
write_data(make_sessions_missing(), "sessions_missing.csv")

M2 <- '
level: 1
  tds_ge ~ bw*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
  ab := a*b
  abc := a*b*c
'

sat_fit <- function(fit) {
  pt <- lavint("lav_partable_unrestricted_chol")(lavdata = fit@Data,
                                                  lavoptions = fit@Options,
                                                  lavpta = fit@pta)
  o <- fit@Options
  o$se <- "none"; o$test <- "none"; o$do.fit <- TRUE; o$h1 <- FALSE
  o$baseline <- FALSE; o$fixed.x <- FALSE; o$model.type <- "unrestricted"
  o$optim.attempts <- 4L; o$warn <- FALSE; o$check.gradient <- FALSE
  o$optim.force.convergence <- TRUE; o$control <- list(rel.tol = 1e-10)
  lavaan(pt, slotOptions = o, slotSampleStats = fit@SampleStats, slotData = fit@Data)
}

## ---------------------------------------------------------------------------
## one case
## ---------------------------------------------------------------------------
run_fiml_case <- function(name, args, description) {
  cat(sprintf("%-28s", name))
  dat <- read_data("sessions_missing.csv")
  t0 <- proc.time()[["elapsed"]]
  res <- tryCatch(with_warnings(do.call("sem", c(list(model = M2, data = dat), args))),
                  error = function(e) e)
  secs <- proc.time()[["elapsed"]] - t0
  if (inherits(res, "error")) {
    cat("ERROR:", conditionMessage(res), "\n")
    write_json_file(list(case = name, description = description,
                         lavaan_version = LAVAAN_VERSION,
                         call = c(list(`function` = "sem"), args),
                         error = conditionMessage(res)),
                    file.path(OUT_DIR, paste0(name, ".json")))
    return(invisible(NULL))
  }
  fit <- res$value
  pol <- newton_polish(fit, max_steps = 5L)
  fm <- fitMeasures(fit, "all")

  # converged h1: lavaan's own saturated fit (lav_h1_implied.R: the
  # Cholesky-parameterised unrestricted table, fixed.x = FALSE, on the fit's
  # data slots) with rel.tol 1e-10 instead of 1e-7, then Newton-polished.
  # Its loglik already has lavaan's loglik.x subtracted (the data slot
  # carries the model's fixed covariates), as fitMeasures' unrestricted.logl.
  sat <- sat_fit(fit)
  sat_pol <- newton_polish(sat, max_steps = 8L)
  h1_logl <- sat_pol$loglik
  d_h0 <- pol$loglik - pol$loglik_raw
  robust <- fit@Options$se %in% c("robust.huber.white", "robust.cluster")
  obj <- list(
    case = name,
    description = description,
    lavaan_version = LAVAAN_VERSION,
    model = M2,
    data = "data/sessions_missing.csv",
    call = c(list(`function` = "sem"), args,
             if (is.null(args$estimator)) list(estimator = "ML")),
    seconds = secs,
    options = effective_options(fit),
    converged = lavInspect(fit, "converged"),
    iterations = lavInspect(fit, "iterations"),
    nobs = lavInspect(fit, "nobs"),
    ntotal = fit@SampleStats@ntotal,
    npar = lavInspect(fit, "npar"),
    nclusters = as.integer(fit@Data@Lp[[1]]$nclusters[[2]]),
    parameterEstimates = estimates_rows(fit, pol),
    vcov = mat_to_list(lavInspect(fit, "vcov")),
    fitMeasures = named_list(fm),
    logl = fm[["logl"]],
    information = mat_to_list(lavInspect(fit, "information")),
    information_first_order = if (robust)
      mat_to_list(safe(lavInspect(fit, "information.first.order"))) else NULL,
    h1 = moments_to_list(as_blocks(lavInspect(fit, "h1"))),
    test = test_info(fit),
    newton = list(
      note = paste("Newton steps from lavaan's estimates with lavaan:::lav_model_gradient",
                   "and lavaan:::lav_model_hessian; grad_maxabs[1] is at lavaan's",
                   "estimates, then after each accepted step"),
      steps = pol$steps, grad_maxabs = I(pol$grad_maxabs),
      x_raw = I(lavint("lav_model_get_parameters")(fit@Model)), x_polished = I(pol$x),
      loglik_raw = pol$loglik_raw, loglik_polished = pol$loglik),
    h1_converged = list(
      note = paste("lavaan's saturated fit (lav_partable_unrestricted_chol,",
                   "fixed.x = FALSE) with rel.tol 1e-10, Newton-polished; loglik as",
                   "unrestricted.logl (lavaan's loglik.x subtracted)"),
      newton_steps = sat_pol$steps, grad_maxabs = I(sat_pol$grad_maxabs),
      unrestricted_logl = h1_logl,
      unrestricted_logl_lavaan = fm[["unrestricted.logl"]]),
    chisq_converged = list(
      chisq_lavaan = fm[["chisq"]],
      logl_polished = fm[["logl"]] + d_h0,
      chisq_converged_h1_polished_h0 = 2 * (h1_logl - (fm[["logl"]] + d_h0))),
    warnings = I(res$warnings)
  )
  write_json_file(obj, file.path(OUT_DIR, paste0(name, ".json")))
  cat(sprintf("ok %.0fs chisq=%.6f (converged %.6f) |g| %s\n", secs, fm[["chisq"]],
              obj$chisq_converged$chisq_converged_h1_polished_h0,
              paste(sprintf("%.1e", pol$grad_maxabs), collapse = " -> ")))
  invisible(list(fit = fit, pol = pol, data = dat))
}

CL <- list(cluster = "client", missing = "ml")
desc <- paste("the study-shaped model without mixed roles on 150 clients' sessions with",
              "missing tds_ge cells, missing between-level iip_post (dropout) and",
              "cats_secure_b, and 4 empty rows")
ML <- run_fiml_case("fiml2l_ml", CL, paste(desc, "- ML"))

## ---------------------------------------------------------------------------
## MLR: lavaan 0.6-14 cannot compute it for two-level FIML (both
## estimator = "MLR" and se = "robust.huber.white" stop with "infinite or
## missing values in 'x'" in eigen(VarCov): it has no clusterwise scores for
## this case).  The reference is built from lavaan's own pieces instead:
##   * s_j, the score of client j: central differences (h = 1e-5) of
##     l_j(theta) = l(all clients) - l(all but client j), both evaluated by
##     lavaan:::lav_model_loglik (lav_mvnorm_cluster_missing_loglik_
##     samplestats_2l) at the polished ML estimates; the data without client
##     j go through sem(..., do.fit = FALSE) so that lavaan builds its
##     missing-data patterns itself;
##   * V = lavaan's ML vcov (inverse observed information, total);
##   * two-level MLR (lavaan's definition: no J/(J-1) factor):
##     V B V with B = sum_j s_j s_j';
##   * therapist/client (three levels): B3 = sum_t S_t S_t' * G/(G-1), S_t the
##     sum of the scores of therapist t's clients.
## ---------------------------------------------------------------------------
mlr_reference <- function(ml, h = 1e-5) {
  fit <- ml$fit; pol <- ml$pol; dat <- ml$data
  err <- tryCatch({sem(M2, data = dat, cluster = "client", missing = "ml",
                       estimator = "MLR"); "none"},
                  error = function(e) conditionMessage(e))
  lm <- pol$model; x <- pol$x; k <- length(x)
  setp <- lavint("lav_model_set_parameters")
  at <- function(a, sgn) { xx <- x; xx[a] <- xx[a] + sgn * h; setp(lm, x = xx) }
  full <- sapply(seq_len(k), function(a)
    c(model_loglik(at(a, 1), fit), model_loglik(at(a, -1), fit)))
  # clients that keep at least one non-empty row (as lavaan's fit)
  used <- dat[rowSums(!is.na(dat[, c("tds_ge", "cats_secure_w", "cats_secure_b",
                                      "ecr_anx", "iip_post")])) > 0, ]
  ids <- sort(unique(used$client))
  S <- matrix(0, length(ids), k)
  for (j in seq_along(ids)) {
    fj <- suppressWarnings(sem(M2, data = used[used$client != ids[j], ],
                               cluster = "client", missing = "ml", do.fit = FALSE,
                               h1 = FALSE, baseline = FALSE, se = "none",
                               test = "none"))
    for (a in seq_len(k)) {
      lp <- full[1, a] - model_loglik(at(a, 1), fj)
      lm_ <- full[2, a] - model_loglik(at(a, -1), fj)
      S[j, a] <- (lp - lm_) / (2 * h)
    }
  }
  V <- unclass(lavInspect(fit, "vcov"))
  B <- crossprod(S)
  V2 <- V %*% B %*% V
  ther <- used$therapist[match(ids, used$client)]
  St <- rowsum(S, ther)
  G <- nrow(St)
  V3 <- V %*% (crossprod(St) * G / (G - 1)) %*% V
  nm <- colnames(V)
  dimnames(V2) <- dimnames(V3) <- list(nm, nm)
  list(lavaan_mlr_error = err,
       note = paste("lavaan cannot fit this MLR; V B V from lavaan's ML vcov and",
                    "clusterwise scores by central differences of lavaan's own",
                    "loglik with one client left out (see the script)"),
       score_step = h, nclients = length(ids), ntherapists = G,
       score_sum_maxabs = max(abs(colSums(S))),
       se_mlr = vec_to_list(setNames(sqrt(diag(V2)), nm)),
       se_therapist_client = vec_to_list(setNames(sqrt(diag(V3)), nm)),
       vcov_mlr = mat_to_list(V2),
       vcov_therapist_client = mat_to_list(V3),
       free_names = I(nm))
}
cat("fiml2l_mlr (built)          ")
ref <- mlr_reference(ML)
obj <- c(list(case = "fiml2l_mlr",
              description = paste(desc, "- MLR and therapist/client sandwich built from",
                                  "lavaan's loglik (lavaan's own MLR fails)"),
              lavaan_version = LAVAAN_VERSION, model = M2,
              data = "data/sessions_missing.csv",
              call = c(list(`function` = "sem"), CL, list(estimator = "MLR")),
              parameterEstimates = estimates_rows(ML$fit, ML$pol)), ref)
write_json_file(obj, file.path(OUT_DIR, "fiml2l_mlr.json"))
cat(sprintf("ok  sum of scores %.1e (the gradient at the polished estimates)\n",
            ref$score_sum_maxabs))
