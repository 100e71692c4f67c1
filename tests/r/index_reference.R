# Reference values for the modernization index (analysis/estimation/index.py), written here from
# the definitions in the method page and the OECD/JRC Handbook on Constructing Composite
# Indicators (2008), without reading or calling the package.
# Run from the project root:  Rscript tests/r/index_reference.R [output.csv [input.csv items.csv]]
# (another wave's answers and items in the same two forms: tests/test_new_wave_against_r.py)
# Inputs (written by tests/r/index_input.py):
#   tests/data/index_input.csv  -- 48 respondents: design weight and the 20 indicator codes (1-5, NA)
#   tests/data/index_items.csv  -- each indicator's field, aspect, lowest and highest code, direction
# Outputs: tests/results/index_reference.csv, one row per construction x respondent (the overall,
#   field and aspect scores); tests/results/index_reference_weights.csv, the weights of each
#   normalisation x weighting ("overall:<field>", "field:<field>:<item>", "aspect:<aspect>:<item>");
#   tests/results/index_reference_without_means.csv, the scores without the five "means" items
# Constructions: every normalisation x weighting x aggregation, coverage 0.65, with the targets,
# expert weights and AHP comparisons below (the same values are given to the package in
# tests/test_index_against_r.py).
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
out_file <- if (length(args)) args[1] else "tests/results/index_reference.csv"
inp <- read.csv(if (length(args) >= 2) args[2] else "tests/data/index_input.csv")
items <- read.csv(if (length(args) >= 3) args[3] else "tests/data/index_items.csv", stringsAsFactors = FALSE)
X <- as.matrix(inp[, items$id])
w <- inp$weight
fields <- unique(items$field)
aspects <- unique(items$aspect)
coverage <- 0.65
targets <- c(edu_org = 4, hlt_sys = 3, et_org = 4)
expert_fields <- c(education = 2, health = 1.5, social_security = 1, employment_training = 1, culture_sports = 0.5)
expert_items <- c(edu_org = 2, hlt_means = 3, cs_sys = 0.5)
ahp_order <- c("health", "education", "culture_sports", "social_security", "employment_training")
ahp_matrix <- rbind(c(1,   2,   3, 2,   2),
                    c(1/2, 1,   2, 1,   1),
                    c(1/3, 1/2, 1, 1/2, 1/2),
                    c(1/2, 1,   2, 1,   1),
                    c(1/2, 1,   2, 1,   1))

# normalisation to 0-100, higher = more modern; a reverse-coded item is read as lo + hi - code
normalise <- function(how) {
  out <- X
  for (j in seq_len(ncol(X))) {
    lo <- items$lo[j]; hi <- items$hi[j]
    x <- X[, j]
    if (items$direction[j] < 0) x <- lo + hi - x
    ok <- !is.na(x)
    out[, j] <- switch(how,
      minmax = 100 * (x - lo) / (hi - lo),
      target = {                                 # capped at 100; the top code by default
        tg <- if (items$id[j] %in% names(targets)) targets[[items$id[j]]] else hi
        pmin(100 * (x - lo) / (tg - lo), 100)
      },
      zscore = {                                 # 50 + 10 z, weighted mean and (population) SD
        mu <- sum(w[ok] * x[ok]) / sum(w[ok])
        s <- sqrt(sum(w[ok] * (x[ok] - mu)^2) / sum(w[ok]))
        if (length(unique(x[ok])) > 1) 50 + 10 * (x - mu) / s else ifelse(ok, 50, NA)   # constant: 50
      },
      rank = {                                   # weighted mid-rank percentile
        v <- sort(unique(x[ok]))
        ws <- sapply(v, function(a) sum(w[ok][x[ok] == a]))
        mid <- (cumsum(ws) - ws / 2) / sum(ws)
        r <- rep(NA_real_, length(x)); r[ok] <- 100 * mid[match(x[ok], v)]; r
      })
  }
  out
}

# weights: entropy of min-shifted shares over complete rows; PCA: squared first eigenvector of
# the correlation matrix (a constant column correlates with nothing); AHP: principal eigenvector
entropy_w <- function(x) {
  x <- as.matrix(x); k <- ncol(x)
  cc <- x[complete.cases(x), , drop = FALSE]
  m <- if (nrow(cc) > 1) sweep(cc, 2, apply(cc, 2, min)) + 1e-9 else matrix(1, 2, k)
  p <- sweep(m, 2, colSums(m), "/")
  d <- 1 + colSums(p * log(p)) / log(nrow(p))
  if (sum(d) > 0) d / sum(d) else rep(1 / k, k)
}
pca_w <- function(x) {
  x <- as.matrix(x); k <- ncol(x)
  cc <- x[complete.cases(x), , drop = FALSE]
  if (nrow(cc) <= k || k == 1) return(rep(1 / k, k))
  r <- suppressWarnings(cor(cc)); r[is.na(r)] <- 0
  eigen(r, symmetric = TRUE)$vectors[, 1]^2
}
ahp_w <- function(a) {
  e <- eigen(a)
  v <- abs(Re(e$vectors[, which.max(Re(e$values))]))
  v / sum(v)
}

# aggregation over the answered components, weights renormalised; below the coverage share: NA
aggregate <- function(x, wt, how) {
  x <- as.matrix(x)
  ok <- !is.na(x)
  wm <- sweep(ok * 1, 2, wt, "*")
  share <- rowSums(wm) / sum(wt)
  wn <- wm / rowSums(wm)
  xz <- ifelse(ok, x, 0)
  s <- switch(how,
    arithmetic = rowSums(wn * xz),
    geometric = (exp(rowSums(wn * log(1 + 0.99 * xz))) - 1) / 0.99,
    topsis = {
      dp <- sqrt(rowSums(wn * (100 - xz)^2)); dm <- sqrt(rowSums(wn * xz^2)); 100 * dm / (dp + dm)
    })
  s[share < coverage - 1e-12] <- NA
  s
}

# every construction on the indicators in X and items (globals: the exclusion below changes them)
all_constructions <- function() {
rows <- list()
weights <- list()
for (norm in c("minmax", "zscore", "rank", "target")) {
  xn <- normalise(norm)
  for (wtg in c("equal", "expert", "entropy", "pca", "ahp")) {
    within <- lapply(setNames(fields, fields), function(f) {
      idx <- which(items$field == f)
      switch(wtg,
        entropy = entropy_w(xn[, idx]),
        pca = pca_w(xn[, idx]),
        expert = { v <- ifelse(items$id[idx] %in% names(expert_items), expert_items[items$id[idx]], 1); v / sum(v) },
        rep(1 / length(idx), length(idx)))
    })
    fw <- switch(wtg,
      ahp = { keep <- match(fields, ahp_order); ahp_w(ahp_matrix[keep, keep]) },
      expert = expert_fields[fields] / sum(expert_fields[fields]),
      entropy = , pca = {
        sub <- sapply(fields, function(f) aggregate(xn[, items$field == f], within[[f]], "arithmetic"))
        if (wtg == "entropy") entropy_w(sub) else pca_w(sub)
      },
      rep(1 / length(fields), length(fields)))
    names(fw) <- fields
    # an indicator's weight in its aspect: its field's weight x its weight in the field
    item_w <- unlist(lapply(seq_len(nrow(items)), function(j) {
      f <- items$field[j]; fw[[f]] * within[[f]][match(j, which(items$field == f))]
    }))
    wts <- c(setNames(fw, paste0("overall:", fields)),
             unlist(lapply(fields, function(f) setNames(within[[f]], paste0("field:", f, ":",
                                                                           items$id[items$field == f])))),
             unlist(lapply(aspects, function(a) {
               idx <- which(items$aspect == a)
               setNames(item_w[idx] / sum(item_w[idx]), paste0("aspect:", a, ":", items$id[idx]))
             })))
    weights[[length(weights) + 1]] <- data.frame(normalisation = norm, weighting = wtg,
                                                 component = names(wts), weight = unname(wts))
    for (agg in c("arithmetic", "geometric", "topsis")) {
      lv <- list()
      for (f in fields) lv[[f]] <- aggregate(xn[, items$field == f], within[[f]], agg)
      for (a in aspects) {
        idx <- which(items$aspect == a)
        lv[[a]] <- aggregate(xn[, idx], item_w[idx] / sum(item_w[idx]), agg)
      }
      lv[["overall"]] <- aggregate(sapply(fields, function(f) lv[[f]]), fw, agg)
      rows[[length(rows) + 1]] <- data.frame(normalisation = norm, weighting = wtg, aggregation = agg,
                                             respondent = inp$respondent, lv[c("overall", fields, aspects)])
    }
  }
}
list(rows = do.call(rbind, rows), weights = do.call(rbind, weights))
}
r <- all_constructions()
write.csv(r$rows, out_file, row.names = FALSE)
write.csv(r$weights, sub("\\.csv$", "_weights.csv", out_file), row.names = FALSE)

# the score without one aspect's indicators (a model's outcome overall_without_<aspect>): the same
# definitions on the other fifteen indicators, every field keeping its others
keep <- items$aspect != "means"
X <- X[, keep]
items <- items[keep, ]
fields <- unique(items$field)
aspects <- unique(items$aspect)
r <- all_constructions()
write.csv(r$rows, sub("\\.csv$", "_without_means.csv", out_file), row.names = FALSE)
