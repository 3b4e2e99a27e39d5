import 'uplot/dist/uPlot.min.css';
import './base.css';
import './registry.css';
import './members.css';
import './compute.css';
import './data.css';
import './pipeline.css';
