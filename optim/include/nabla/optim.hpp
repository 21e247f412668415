// nabla — numerical optimization: the umbrella header.
#pragma once

#include "nabla/optim/covariance.hpp"
#include "nabla/optim/format.hpp"
#include "nabla/optim/least_squares.hpp"
#include "nabla/optim/methods.hpp"
#include "nabla/optim/minimize.hpp"
#include "nabla/optim/multistart.hpp"
#include "nabla/optim/optimizer.hpp"
#include "nabla/optim/schedule.hpp"
