# Reference values for tests/stats/test_comparison.py, computed by R packages that are
# independent of cmlops: pROC (paired DeLong test), stats::t.test (paired t) and
# glm + sandwich::vcovCL (stacked recalibration fits, cluster-robust HC0 covariance).
#
# Data: paired_models.csv, 300 synthetic cases (numpy default_rng(20261202)): outcome y,
# two models' risks score_a (age and sex) and score_b (with a marker, overfit), rounded
# to 3 decimals so that ties occur, and two grouping variables (sex, site).
#
# Run (Debian: apt-get install r-cran-proc r-cran-sandwich):
#   Rscript tests/stats/data/paired_models_reference.R > tests/stats/data/paired_models_reference.csv
# Written with R 4.2.2, pROC 1.18.0, sandwich 3.0-2.
suppressMessages({
  library(pROC)
  library(sandwich)
})
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
d <- read.csv(file.path(here, "paired_models.csv"), stringsAsFactors = FALSE)

num <- function(x) if (is.null(x) || is.na(x)) "" else sprintf("%.17g", x)
row <- function(metric, subgroup, threshold, a, b, diff, lo, hi, p) {
  cat(paste(metric, subgroup, num(threshold), num(a), num(b), num(diff), num(lo), num(hi),
            num(p), sep = ","), "\n", sep = "")
}

delong <- function(s, label) {
  r1 <- roc(s$y, s$score_a, direction = "<", levels = c(0, 1), quiet = TRUE)
  r2 <- roc(s$y, s$score_b, direction = "<", levels = c(0, 1), quiet = TRUE)
  t <- roc.test(r1, r2, method = "delong", paired = TRUE)
  row("auroc", label, NA, t$estimate[[1]], t$estimate[[2]],
      t$estimate[[1]] - t$estimate[[2]], t$conf.int[1], t$conf.int[2], t$p.value)
}

paired_t <- function(metric, label, threshold, ua, ub) {
  t <- t.test(ua, ub, paired = TRUE)
  row(metric, label, threshold, mean(ua), mean(ub), mean(ua - ub),
      t$conf.int[1], t$conf.int[2], t$p.value)
}

utility <- function(y, p, t) (p >= t) * (y - (1 - y) * t / (1 - t))

calibration <- function(s, label, parameter) {
  lg <- function(p) { p <- pmin(pmax(p, 1e-12), 1 - 1e-12); log(p / (1 - p)) }
  long <- data.frame(
    id = rep(seq_len(nrow(s)), 2),
    model = factor(rep(c("a", "b"), each = nrow(s))),
    y = rep(s$y, 2),
    lp = c(lg(s$score_a), lg(s$score_b))
  )
  ctl <- glm.control(epsilon = 1e-14, maxit = 100)
  if (parameter == "intercept") {
    fit <- glm(y ~ 0 + model + offset(lp), family = binomial, data = long, control = ctl)
    names <- c("modela", "modelb")
  } else {
    fit <- glm(y ~ 0 + model + model:lp, family = binomial, data = long, control = ctl)
    names <- c("modela:lp", "modelb:lp")
  }
  v <- vcovCL(fit, cluster = ~id, type = "HC0", cadjust = FALSE)
  est <- coef(fit)[names]
  contrast <- setNames(rep(0, length(coef(fit))), names(coef(fit)))
  contrast[names] <- c(1, -1)
  se <- sqrt(drop(t(contrast) %*% v %*% contrast))
  diff <- est[[1]] - est[[2]]
  z <- qnorm(0.975)
  row(paste0("calibration_", parameter), label, NA, est[[1]], est[[2]], diff,
      diff - z * se, diff + z * se, 2 * pnorm(-abs(diff / se)))
}

cat("metric,subgroup,threshold,value_a,value_b,difference,ci_low,ci_high,p_value\n")
samples <- list(all = d)
for (v in c("sex", "site")) {
  for (level in sort(unique(d[[v]]))) samples[[paste0(v, "=", level)]] <- d[d[[v]] == level, ]
}
for (label in names(samples)) {
  s <- samples[[label]]
  delong(s, label)
  paired_t("brier", label, NA, (s$score_a - s$y)^2, (s$score_b - s$y)^2)
  calibration(s, label, "intercept")
  calibration(s, label, "slope")
  for (t in c(0.1, 0.2, 0.3)) {
    paired_t("net_benefit", label, t, utility(s$y, s$score_a, t), utility(s$y, s$score_b, t))
  }
}
