import { LabIcon } from '@jupyterlab/ui-components';

import amlSvgstr from '../style/icons/aml.svg';

export const amlIcon = new LabIcon({ name: 'jupyter-aml:aml', svgstr: amlSvgstr });
