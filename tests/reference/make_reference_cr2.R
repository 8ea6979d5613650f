# CR2 (Bell & McCaffrey 2002) cluster-robust vcov of an OLS regression, from
# clubSandwich::vcovCR(type = "CR2") (Pustejovsky & Tipton's package), for
# tests/estimate/test_small_sample.py: attachpath's estimate/vcov.py cr2 in
# score form must reproduce it on OLS estimating equations.
#   Rscript tests/reference/make_reference_cr2.R   (from the repository root)
suppressPackageStartupMessages({library(clubSandwich); library(jsonlite)})
set.seed(2002)
G <- 14
sizes <- sample(3:9, G, replace = TRUE)
cl <- rep(seq_len(G), sizes)
n <- length(cl)
u <- rnorm(G)[cl]
x1 <- rnorm(n) + 0.5 * u
x2 <- rbinom(n, 1, 0.4)
y <- 1 + 0.5 * x1 - 0.3 * x2 + u + rnorm(n)
d <- data.frame(cluster = cl, x1 = x1, x2 = x2, y = y)
write.csv(d, "tests/reference/cr2/ols_clusters.csv", row.names = FALSE)
m <- lm(y ~ x1 + x2, data = d)
V_club <- as.matrix(vcovCR(m, cluster = d$cluster, type = "CR2"))
X <- model.matrix(m)
XtXi <- solve(crossprod(X))
lev <- sapply(split(seq_len(n), cl), function(i) {
  max(eigen(X[i, , drop = FALSE] %*% XtXi %*% t(X[i, , drop = FALSE]), only.values = TRUE)$values)
})
out <- list(data = "cr2/ols_clusters.csv", coef = unname(coef(m)),
            names = colnames(X), vcov_clubSandwich = unname(V_club),
            max_cluster_leverage = max(lev),
            versions = list(R = R.version.string,
                            clubSandwich = as.character(packageVersion("clubSandwich"))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/cr2/ols_cr2.json")
