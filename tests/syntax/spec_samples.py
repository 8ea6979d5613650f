"""Realistic specs shared by the parser tests and the fuzz seeds."""

SERIAL_MEDIATION = """\
# serial mediation: x -> m1 -> m2 -> y
m1 ~ a1*x
m2 ~ a2*x + d21*m1
y  ~ cp*x + b1*m1 + b2*m2

ind1  := a1*b1
ind2  := a2*b2
ind3  := a1*d21*b2     ! the serial path
total := cp + ind1 + ind2 + ind3
"""

POLITICAL_DEMOCRACY = """\
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + a*y2 + b*y3 + c*y4
    dem65 =~ y5 + a*y6 + b*y7 + c*y8
  # regressions
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
"""

KITCHEN_SINK = """\
f =~ NA*x1 + start(0.8)*x2 +
     lam3*x3 + label("lam4")*x4
f ~~ 1*f; x1 ~~ x2
y ~ 1 + b*f + -0.5*z + 1e-3*w
y ~~ start(0.3)*y
diff := (lam3 - lam4)^2 / 2
lam3 > 0
lam3 == exp(lam4)
"""

SEEDS = (SERIAL_MEDIATION, POLITICAL_DEMOCRACY, KITCHEN_SINK)
