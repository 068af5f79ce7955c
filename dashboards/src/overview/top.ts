// How many bars the overview's top-N bar gauges show: one number for every row that has them.
export const TOP = 15;
