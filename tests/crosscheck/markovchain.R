# Cross-check of `selflearn chain` against Debian's r-cran-markovchain (absorptionProbabilities,
# meanAbsorptionTime) on the drunkard's walk and on random absorbing chains given as counts and as
# probabilities. Usage: Rscript markovchain.R <path of the selflearn program>. Exits non-zero, naming the
# chain and state, on any mismatch.

suppressPackageStartupMessages({
  library(markovchain)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript markovchain.R <selflearn program>")
program <- args[1]
if (!file.exists(program)) stop(paste("no such program:", program))

tolerance <- 1e-9
checked_states <- 0

# Runs `selflearn chain` on transition lines; returns a list state -> parsed output line.
run_selflearn <- function(lines) {
  input <- tempfile(fileext = ".jsonl")
  output <- tempfile(fileext = ".jsonl")
  on.exit(unlink(c(input, output)))
  writeLines(lines, input)
  status <- system2(program, c("chain", "--output", output, input), stdout = TRUE, stderr = TRUE)
  code <- attr(status, "status")
  if (!is.null(code) && code != 0) stop(paste("selflearn chain failed:", paste(status, collapse = "\n")))
  rows <- lapply(readLines(output), function(l) fromJSON(l, simplifyVector = FALSE))
  names(rows) <- vapply(rows, function(r) r$state, "")
  rows
}

# Compares selflearn with markovchain for a full transition matrix P (row-stochastic, named states).
compare <- function(label, P, lines) {
  mc <- new("markovchain", transitionMatrix = P, states = rownames(P), name = label)
  b <- absorptionProbabilities(mc)
  t <- meanAbsorptionTime(mc)
  ours <- run_selflearn(lines)
  if (!setequal(names(ours), rownames(b))) {
    stop(sprintf("%s: transient states differ: selflearn {%s}, markovchain {%s}", label,
                 paste(sort(names(ours)), collapse = ","), paste(sort(rownames(b)), collapse = ",")))
  }
  for (s in rownames(b)) {
    row <- ours[[s]]
    if (abs(row$expected_steps - t[[s]]) > tolerance * max(1, t[[s]])) {
      stop(sprintf("%s: expected steps from %s: selflearn %.17g, markovchain meanAbsorptionTime %.17g",
                   label, s, row$expected_steps, t[[s]]))
    }
    for (a in colnames(b)) {
      mine <- if (is.null(row$absorption[[a]])) 0 else row$absorption[[a]]
      if (abs(mine - b[s, a]) > tolerance) {
        stop(sprintf("%s: absorption from %s into %s: selflearn %.17g, markovchain absorptionProbabilities %.17g",
                     label, s, a, mine, b[s, a]))
      }
    }
    checked_states <<- checked_states + 1
  }
}

# The drunkard's walk of Grinstead and Snell, given as probabilities.
walk_states <- c("0", "1", "2", "3", "4")
P <- matrix(0, 5, 5, dimnames = list(walk_states, walk_states))
P["0", "0"] <- 1
P["4", "4"] <- 1
lines <- character(0)
for (i in 2:4) {
  P[i, i - 1] <- 0.5
  P[i, i + 1] <- 0.5
  lines <- c(lines, sprintf('{"from": "%s", "to": "%s", "p": 0.5}', walk_states[i], walk_states[c(i - 1, i + 1)]))
}
compare("drunkard's walk", P, lines)

# Random chains: n transient states (with a path i -> i+1 so that every one reaches an absorbing state),
# a absorbing states, random integer counts on a random sparse pattern.
set.seed(20260521)
for (round in 1:40) {
  n <- sample(2:40, 1)
  a <- sample(1:5, 1)
  transient <- sprintf("t%02d", seq_len(n))
  absorbing <- sprintf("a%d", seq_len(a))
  states <- c(transient, absorbing)
  counts <- matrix(0, n + a, n + a, dimnames = list(states, states))
  density <- runif(1, 0.05, 0.4)
  for (i in seq_len(n)) {
    for (j in seq_len(n + a)) {
      if (runif(1) < density) counts[i, j] <- sample(1:9, 1)
    }
    if (i < n) counts[i, i + 1] <- counts[i, i + 1] + 1
  }
  counts[n, n + sample(1:a, 1)] <- counts[n, n + sample(1:a, 1)] + 1
  for (k in seq_len(a)) counts[n + k, n + k] <- 1
  P <- counts / rowSums(counts)
  use_p <- round %% 2 == 0
  lines <- character(0)
  for (i in seq_len(n)) {
    for (j in which(counts[i, ] > 0)) {
      lines <- c(lines, if (use_p) {
        sprintf('{"from": "%s", "to": "%s", "p": %.17g}', states[i], states[j], P[i, j])
      } else {
        sprintf('{"from": "%s", "to": "%s", "count": %d}', states[i], states[j], as.integer(counts[i, j]))
      })
    }
  }
  # Absorbing states with no line of their own are absorbing for selflearn too (no outgoing transition).
  compare(sprintf("random chain %d (%d transient, %d absorbing, %s)", round, n, a,
                  if (use_p) "probabilities" else "counts"), P, lines)
}

cat(sprintf("markovchain cross-check: %d transient states agree within %g\n", checked_states, tolerance))
